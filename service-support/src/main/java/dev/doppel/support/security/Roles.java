package dev.doppel.support.security;

import java.util.List;

/**
 * The realm roles and who may do what with them: the one table every service's checks name. Keycloak
 * gives the roles (composite: an admin's token lists every role, an operator's lists viewer too);
 * each endpoint and GraphQL operation checks them in the service itself, from the token, with no
 * call to Keycloak. The sets list each role that grants an operation, so a realm whose roles are
 * not composite still works.
 */
public final class Roles {

    public static final String VIEWER = "dt-viewer";
    public static final String OPERATOR = "dt-operator";
    public static final String DEVICE_ADMIN = "dt-device-admin";
    public static final String ADMIN = "dt-admin";

    /*
     * Who may do what, for checks in code (Caller.require). @RolesAllowed needs the same sets written
     * out as constants: {VIEWER, OPERATOR, ADMIN} reads, {OPERATOR, ADMIN} steers, {DEVICE_ADMIN, ADMIN}
     * manages the registry.
     */

    /** Read twins and commands of the caller's tenants. */
    public static final List<String> READ = List.of(VIEWER, OPERATOR, ADMIN);
    /** Write desired state, send and cancel commands. */
    public static final List<String> STEER = List.of(OPERATOR, ADMIN);

    private Roles() {
    }
}

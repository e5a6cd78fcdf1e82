package dev.doppel.support.security;

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

    private Roles() {
    }
}

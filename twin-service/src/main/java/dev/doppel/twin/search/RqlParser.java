package dev.doppel.twin.search;

import dev.doppel.twin.search.Rql.SyntaxError;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.ditto.rql.model.ParsedPlaceholder;
import org.eclipse.ditto.rql.model.ParserException;
import org.eclipse.ditto.rql.model.predicates.ast.ExistsNode;
import org.eclipse.ditto.rql.model.predicates.ast.LogicalNode;
import org.eclipse.ditto.rql.model.predicates.ast.MultiComparisonNode;
import org.eclipse.ditto.rql.model.predicates.ast.Node;
import org.eclipse.ditto.rql.model.predicates.ast.RootNode;
import org.eclipse.ditto.rql.model.predicates.ast.SingleComparisonNode;
import org.eclipse.ditto.rql.parser.RqlPredicateParser;

/**
 * RQL filters as Eclipse Ditto reads them: Ditto's own parser ({@code org.eclipse.ditto:ditto-rql-parser}),
 * so every filter Ditto's documentation shows reads the same here (single- and double-quoted strings,
 * properties with or without a leading slash, {@code ilike}, {@code time:now} placeholders). Its tree
 * becomes {@link Rql}, which the store's translation ({@link RqlToMongo}) and the live matcher
 * ({@link RqlMatcher}) share. Bounded before and after parsing: at most {@value #MAX_LENGTH} characters
 * and {@value #MAX_DEPTH} levels. Properties are checked later against what a twin has.
 */
public final class RqlParser {

    static final int MAX_DEPTH = 16;
    static final int MAX_LENGTH = 4096;
    /** Where Ditto's parser says the problem is: "(line 1, column 6)". */
    private static final Pattern AT = Pattern.compile("\\(line \\d+, column (\\d+)\\)");

    private RqlParser() {
    }

    public static Rql parse(String filter) {
        return parse(filter, Clock.systemUTC());
    }

    /** {@code clock}: what {@code time:now} is. */
    static Rql parse(String filter, Clock clock) {
        if (filter == null || filter.isBlank()) {
            throw new SyntaxError("empty filter", 0);
        }
        if (filter.length() > MAX_LENGTH) {
            throw new SyntaxError("filter longer than " + MAX_LENGTH + " characters", MAX_LENGTH);
        }
        RootNode root;
        try {
            root = RqlPredicateParser.getInstance().parse(filter);
        } catch (ParserException e) {
            throw syntaxError(e);
        } catch (StackOverflowError e) {
            throw new SyntaxError("filter nests deeper than " + MAX_DEPTH + " levels", 0);
        }
        if (root.getChildren().size() != 1) {
            throw new SyntaxError("expected one operator at the top", 0);
        }
        return convert(root.getChildren().get(0), 1, clock);
    }

    /** Ditto's message without its drawing of the input, and the position it names (0-based). */
    private static SyntaxError syntaxError(ParserException e) {
        String message = String.valueOf(e.getMessage());
        int line = message.indexOf('\n');
        String first = line < 0 ? message : message.substring(0, line);
        Matcher at = AT.matcher(first);
        int position = 0;
        if (at.find()) {
            position = Math.max(0, Integer.parseInt(at.group(1)) - 1);
            first = first.substring(0, at.start()).trim();
        }
        return new SyntaxError(first.endsWith(":") ? first.substring(0, first.length() - 1) : first, position);
    }

    private static Rql convert(Node node, int depth, Clock clock) {
        if (depth > MAX_DEPTH) {
            throw new SyntaxError("filter nests deeper than " + MAX_DEPTH + " levels", 0);
        }
        return switch (node) {
            case LogicalNode l -> {
                List<Rql> operands = new ArrayList<>();
                for (Node child : l.getChildren()) {
                    operands.add(convert(child, depth + 1, clock));
                }
                yield switch (l.getType()) {
                    case AND -> new Rql.And(operands);
                    case OR -> new Rql.Or(operands);
                    case NOT -> {
                        if (operands.size() != 1) {
                            throw new SyntaxError("not takes one operator", 0);
                        }
                        yield new Rql.Not(operands.get(0));
                    }
                };
            }
            case SingleComparisonNode c -> {
                String property = property(c.getComparisonProperty());
                Object value = value(c.getComparisonValue(), clock);
                SingleComparisonNode.Type type = (SingleComparisonNode.Type) c.getComparisonType();
                yield switch (type) {
                    case EQ -> new Rql.Compare(Rql.Op.EQ, property, value);
                    case NE -> new Rql.Compare(Rql.Op.NE, property, value);
                    case GT -> new Rql.Compare(Rql.Op.GT, property, value);
                    case GE -> new Rql.Compare(Rql.Op.GE, property, value);
                    case LT -> new Rql.Compare(Rql.Op.LT, property, value);
                    case LE -> new Rql.Compare(Rql.Op.LE, property, value);
                    case LIKE, ILIKE -> {
                        if (!(value instanceof String pattern)) {
                            throw new SyntaxError(type.getName() + " takes a string pattern", 0);
                        }
                        yield new Rql.Like(property, pattern, type == SingleComparisonNode.Type.ILIKE);
                    }
                };
            }
            case MultiComparisonNode m -> {
                List<Object> values = new ArrayList<>();
                for (Object v : (List<?>) m.getComparisonValue()) {
                    values.add(value(v, clock));
                }
                yield new Rql.In(property(m.getComparisonProperty()), values);
            }
            case ExistsNode e -> new Rql.Exists(property(e.getProperty()));
            default -> throw new SyntaxError("unsupported operator " + node, 0);
        };
    }

    /** Ditto's properties are JSON pointers: the leading slash may be there or not. */
    private static String property(String property) {
        String p = property.startsWith("/") ? property.substring(1) : property;
        if (p.isEmpty()) {
            throw new SyntaxError("empty property", 0);
        }
        return p;
    }

    private static Object value(Object value, Clock clock) {
        if (value instanceof ParsedPlaceholder placeholder) {
            return TimePlaceholder.resolve(placeholder.getPrefix(), placeholder.getName(), clock);
        }
        return value;
    }
}

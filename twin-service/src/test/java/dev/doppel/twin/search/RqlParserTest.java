package dev.doppel.twin.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.MongoClientSettings;
import dev.doppel.twin.model.InvalidReport;
import java.util.List;
import org.junit.jupiter.api.Test;

class RqlParserTest {

    private static String mongo(String rql) {
        return RqlToMongo.filter(RqlParser.parse(rql))
                .toBsonDocument(org.bson.BsonDocument.class, MongoClientSettings.getDefaultCodecRegistry()).toJson();
    }

    @Test
    void dittoOperatorsParse() {
        assertEquals(new Rql.Compare(Rql.Op.EQ, "attributes/site", "plant 2"), RqlParser.parse("eq(attributes/site,\"plant 2\")"));
        assertEquals(new Rql.In("thingId", List.of("demo:a", "demo:b")), RqlParser.parse("in(thingId,\"demo:a\",\"demo:b\")"));
        assertEquals(new Rql.Compare(Rql.Op.GT, "features/t/properties/temp", 21.5),
                RqlParser.parse("gt(features/t/properties/temp,21.5)"));
        assertEquals(new Rql.Compare(Rql.Op.LE, "_revision", 3L), RqlParser.parse("le(_revision,3)"));
        Rql nested = RqlParser.parse("and(exists(attributes/a), or(like(attributes/n,\"ab*\"),not(eq(attributes/x,null))))");
        assertTrue(nested instanceof Rql.And);
        String json = mongo("and(eq(attributes/a,1),not(ne(attributes/b,true)))");
        assertTrue(json.contains("\"attributes.a\": 1"), json);
        assertTrue(json.contains("$nor"), json);
    }

    @Test
    void likeBecomesAnAnchoredRegexWithEverythingElseQuoted() {
        assertTrue(RqlToMongo.likeToRegex("a*b?c.").matcher("aXXbYc.").matches());
        assertFalse(RqlToMongo.likeToRegex("a*").matcher("ba").matches());
        assertFalse(RqlToMongo.likeToRegex("a.c").matcher("abc").matches(), "'.' must be literal");
    }

    @Test
    void likeMatchesAsAGlobDoes() {
        String[][] yes = {{"*", ""}, {"*", "abc"}, {"a*", "a"}, {"*c", "abc"}, {"a*c", "ac"}, {"a*b*c", "abc"},
            {"a*b*c", "aXbYbZc"}, {"*ab*ab*", "xabyab"}, {"a?*b", "aXb"}, {"*a?a*", "bbaxabb"}, {"**x**", "x"},
            {"*aab", "aaab"}, {"*ab*abc", "ababab abc"}, {"line*end", "line\nend"}};
        String[][] no = {{"a*", "ba"}, {"*c", "cb"}, {"a*b*c", "acb"}, {"*ab*ab*", "xaby"}, {"a?*b", "ab"},
            {"?", ""}, {"*aab", "aaba"}, {"*ab*abc", "ababab ab"}};
        for (String[] c : yes) {
            assertTrue(RqlToMongo.likeToRegex(c[0]).matcher(c[1]).matches(), c[0] + " on " + c[1]);
        }
        for (String[] c : no) {
            assertFalse(RqlToMongo.likeToRegex(c[0]).matcher(c[1]).matches(), c[0] + " on " + c[1]);
        }
    }

    @Test
    @org.junit.jupiter.api.Timeout(value = 60, unit = java.util.concurrent.TimeUnit.SECONDS)
    void aPatternOfManyStarsOnALongValueThatFailsEndsWithoutEndlessBacktracking() {
        // As .*a.*a.*a.*a.*a.*a.*a.*b this would take 2,000 to the 7th power steps and never end.
        String value = "a".repeat(2_000);
        assertFalse(RqlToMongo.likeToRegex("*a*a*a*a*a*a*a*b").matcher(value).matches());
        assertTrue(RqlToMongo.likeToRegex("*a*a*a*a*a*a*a*").matcher(value).matches());
    }

    @Test
    void errorsNameTheirPosition() {
        assertEquals(0, assertThrows(Rql.SyntaxError.class, () -> RqlParser.parse("where(1)")).position());
        // Ditto's parser reads "attributes/a 1" as the property: the ',' it expects is missing at the ')'.
        assertEquals(17, assertThrows(Rql.SyntaxError.class, () -> RqlParser.parse("eq(attributes/a 1)")).position());
        assertEquals(18, assertThrows(Rql.SyntaxError.class, () -> RqlParser.parse("eq(attributes/a,1))")).position());
        assertThrows(Rql.SyntaxError.class, () -> RqlParser.parse("eq(attributes/a,\"open"));
        assertThrows(Rql.SyntaxError.class, () -> RqlParser.parse("eq(attributes/a,sleep(1))"));
        assertThrows(Rql.SyntaxError.class, () -> RqlParser.parse(""));
    }

    @Test
    void hostileFiltersCannotBecomeOperatorsOrReachOtherFields() {
        // Properties are twin paths whose keys cannot hold '$' or '.'
        for (String bad : new String[] {"eq($where,1)", "eq(attributes/$where,1)", "eq(attributes/a.b,1)",
                "eq(tenant,\"other\")", "eq(_metadata/x,1)", "eq(features,1)", "exists(attributes)"}) {
            assertThrows(InvalidReport.class, () -> mongo(bad), bad);
        }
        // A value that looks like an operator is just a string.
        String json = mongo("eq(attributes/a,\"{$gt: ''}\")");
        assertTrue(json.contains("\"attributes.a\": \"{$gt: ''}\""), json);
        assertThrows(Rql.SyntaxError.class, () -> RqlParser.parse("not(".repeat(40) + "eq(attributes/a,1)" + ")".repeat(40)));
        assertThrows(Rql.SyntaxError.class, () -> RqlParser.parse("eq(attributes/a,\"" + "x".repeat(5000) + "\")"));
    }

    @Test
    void dittosOwnFormsReadAsDittoReadsThem() {
        // A leading slash (JSON pointer), single quotes, ilike.
        assertEquals(new Rql.Compare(Rql.Op.EQ, "attributes/location", "kitchen"),
                RqlParser.parse("eq(/attributes/location,'kitchen')"));
        assertEquals(new Rql.Like("attributes/name", "SENSOR*", true), RqlParser.parse("ilike(attributes/name,\"SENSOR*\")"));
        assertTrue(RqlToMongo.likeToRegex("SENSOR*", true).matcher("sensor-1").matches());
        assertFalse(RqlToMongo.likeToRegex("SENSOR*", false).matcher("sensor-1").matches());
        // Numbers as Ditto reads them: integers are longs.
        assertEquals(new Rql.In("attributes/n", java.util.Arrays.asList(1L, 2.5, "x", null, true)),
                RqlParser.parse("in(attributes/n,1,2.5,\"x\",null,true)"));
        // What Ditto refuses is refused, with Ditto's words and position.
        Rql.SyntaxError e = assertThrows(Rql.SyntaxError.class, () -> RqlParser.parse("eq(attributes/a, 1)"));
        assertEquals(16, e.position());
        assertTrue(e.getMessage().contains("expected"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "the drawing of the input is left out: " + e.getMessage());
    }

    @Test
    void timePlaceholdersResolveWhenTheFilterIsRead() {
        java.time.Clock clock = java.time.Clock.fixed(java.time.Instant.parse("2026-12-07T10:15:30.250Z"),
                java.time.ZoneOffset.UTC);
        assertEquals(new Rql.Compare(Rql.Op.GT, "_modified", "2026-12-07T10:15:30.250Z"),
                RqlParser.parse("gt(_modified,time:now)", clock));
        assertEquals(new Rql.Compare(Rql.Op.GT, "_modified", "2026-12-07T09:15:30.250Z"),
                RqlParser.parse("gt(_modified,time:now-1h)", clock));
        assertEquals(new Rql.Compare(Rql.Op.GE, "_created", "2026-12-07T00:00:00Z"),
                RqlParser.parse("ge(_created,time:now[d])", clock));
        assertEquals(new Rql.Compare(Rql.Op.LT, "_created", "2026-12-01T00:00:00Z"),
                RqlParser.parse("lt(_created,time:now-1d[mo])", clock));
        assertEquals(new Rql.Compare(Rql.Op.LT, "attributes/t", clock.millis()),
                RqlParser.parse("lt(attributes/t,time:now_epoch_millis)", clock));
        assertThrows(Rql.SyntaxError.class, () -> RqlParser.parse("gt(_modified,time:tomorrow)", clock));
        assertThrows(Rql.SyntaxError.class, () -> RqlParser.parse("gt(_modified,thing:id)", clock));
    }

    @Test
    void timesOfModifiedAndCreatedMayBeCutShort() {
        assertEquals(java.time.Instant.parse("2026-12-01T00:00:00Z"), RqlToMongo.time("_created", "2026-12"));
        assertEquals(java.time.Instant.parse("2026-01-01T00:00:00Z"), RqlToMongo.time("_created", "2026"));
        assertEquals(java.time.Instant.parse("2026-12-07T10:00:00Z"), RqlToMongo.time("_created", "2026-12-07T10"));
        assertEquals(java.time.Instant.parse("2026-12-07T08:30:00Z"),
                RqlToMongo.time("_created", "2026-12-07T10:30+02:00"));
        assertEquals(java.time.Instant.parse("2026-12-07T10:15:30.123Z"),
                RqlToMongo.time("_modified", "2026-12-07T10:15:30.123Z"));
        assertThrows(InvalidReport.class, () -> RqlToMongo.time("_created", "2026-13"));
        assertThrows(InvalidReport.class, () -> RqlToMongo.time("_created", "yesterday"));
    }

    @Test
    void comparisonsMatchOnlyThingsThatHaveTheProperty() {
        // ne and eq(null) as Ditto: a thing without the property matches neither.
        String ne = mongo("ne(attributes/owner,\"x\")");
        assertTrue(ne.contains("\"attributes.owner\": {\"$exists\": true, \"$ne\": \"x\"}"), ne);
        String isNull = mongo("eq(attributes/serial,null)");
        assertTrue(isNull.contains("\"attributes.serial\": {\"$exists\": true, \"$eq\": null}"), isNull);
    }
}

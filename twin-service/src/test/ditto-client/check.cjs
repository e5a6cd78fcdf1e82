// Drives Eclipse Ditto's own JavaScript client, unmodified, against twin-service:
//   node check.cjs <host:port> <bearer token> <thing id>
// Prints one line per step ("ok <step>") and exits 1 at the first step that does not do what
// Ditto's client expects of a Ditto server.
'use strict';
const ditto = require('@eclipse-ditto/ditto-javascript-client-node');

const [domain, token, thingId] = process.argv.slice(2);
const namespace = thingId.split(':')[0];
const client = ditto.DittoNodeClient.newHttpClient()
  .withoutTls()
  .withDomain(domain)
  .withAuthProvider(ditto.HttpBearerAuth.newInstance(new ditto.DefaultTokenSupplier(token)))
  .build();
const things = client.getThingsHandle();
const features = client.getFeaturesHandle(thingId);
const search = client.getSearchHandle();

function expect(step, actual, expected) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) {
    throw new Error(`${step}: expected ${e}, got ${a}`);
  }
  console.log(`ok ${step}`);
}

async function main() {
  const thing = new ditto.Thing(thingId, undefined, { location: 'kitchen', complex: { some: 1, serialNo: 's-1' } },
    { lamp: new ditto.Feature('lamp', undefined, { on: false, level: 10 }) });
  const created = await things.putThing(thing);
  expect('putThing creates', created.status, 201);

  const read = await things.getThing(thingId);
  expect('getThing', [read.thingId, read.policyId, read.attributes.location, read.features.lamp.properties.level],
    [thingId, thingId, 'kitchen', 10]);
  // A read-modify-write as Ditto tools do it: the thing as read, sent back.
  read.attributes.owner = 'olivia';
  expect('putThing with what was read', (await things.putThing(read)).status, 204);

  expect('getAttributes', (await things.getAttributes(thingId)).owner, 'olivia');
  expect('putAttribute', (await things.putAttribute(thingId, 'floor', 2)).status, 201);
  expect('getAttribute', await things.getAttribute(thingId, 'floor'), 2);
  expect('patchAttributes', (await things.patchAttributes(thingId, { floor: 3 })).status, 204);
  expect('getAttribute after the patch', await things.getAttribute(thingId, 'floor'), 3);
  expect('deleteAttribute', (await things.deleteAttribute(thingId, 'floor')).status, 204);

  const fieldsOnly = await things.getThing(thingId,
    ditto.DefaultFieldsOptions.getInstance().withFields('thingId', 'attributes/complex(serialNo)', 'features/*/properties/on'));
  expect('getThing with fields', [fieldsOnly.thingId, fieldsOnly.attributes, fieldsOnly.features.lamp.properties],
    [thingId, { complex: { serialNo: 's-1' } }, { on: false }]);

  expect('getFeatures', Object.keys(await features.getFeatures()), ['lamp']);
  expect('putProperty', (await features.putProperty('lamp', 'on', true)).status, 204);
  expect('getProperty', await features.getProperty('lamp', 'on'), true);
  expect('putProperties', (await features.putProperties('lamp', { on: true, level: 40 })).status, 204);
  expect('getProperties', await features.getProperties('lamp'), { on: true, level: 40 });
  expect('putFeature', (await features.putFeature(new ditto.Feature('fan', undefined, { rpm: 900 }))).status, 201);
  expect('getFeature', (await features.getFeature('fan')).properties, { rpm: 900 });
  expect('deleteFeature', (await features.deleteFeature('fan')).status, 204);

  const filter = ditto.And(ditto.Eq('attributes/location', 'kitchen'), ditto.Exists('features/lamp'),
    ditto.Like('thingId', `${namespace}:*`));
  const found = await search.search(ditto.DefaultSearchOptions.getInstance().withFilter(filter)
    .withNamespaces(namespace).withFields('thingId', 'attributes/owner').withSort('+thingId'));
  expect('search', found.items.map(t => [t.thingId, t.attributes.owner]), [[thingId, 'olivia']]);
  const posted = await search.postSearch(ditto.DefaultSearchOptions.getInstance()
    .withFilter(ditto.ILike('attributes/owner', 'OLIVIA')).withNamespaces(namespace));
  expect('postSearch', posted.items.map(t => t.thingId), [thingId]);
  expect('count', await search.count(ditto.DefaultCountOptions.getInstance().withFilter(filter).withNamespaces(namespace)), 1);
  expect('postCount', await search.postCount(ditto.DefaultCountOptions.getInstance()
    .withFilter(ditto.Ne('attributes/owner', 'mallory')).withNamespaces(namespace)), 1);

  expect('deleteThing', (await things.deleteThing(thingId)).status, 204);
  let gone;
  try {
    await things.getThing(thingId);
    gone = 'still there';
  } catch (e) {
    gone = e.status;
  }
  expect('getThing after the delete', gone, 404);
}

main().then(() => console.log('done'), e => {
  console.log(`FAILED ${e && e.message ? e.message : JSON.stringify(e)}`);
  process.exit(1);
});

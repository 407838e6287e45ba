/**
 * The folder rules `npm run lint:deps` checks (CI runs it): the layers of
 * docs/flow.md ("Layers"), top to bottom. A folder may import the folders of
 * the layers below its own, never one above or beside it; so no two folders
 * can import each other, directly or round a cycle. Change the list here and
 * in docs/flow.md together.
 *
 * There is no list of known violations: any upward import fails. The one
 * exception, store/schema.ts's type-only import of DeliveryStatus, is written
 * below (STORE_SCHEMA) with its reason.
 */
const layers = [
  ['cli'],                          // the command line
  ['main.ts'],                      // the composition root: builds and wires every piece
  ['write-operations.ts'],          // every write the queue writer runs: each folder's table, merged
  ['api'],                          // the HTTP door (API and the dashboard's routes)
  ['web'],                          // the dashboard's pages, served by the API
  ['doctor'],                       // the Send-As doctor: watches the SMTP door, answers through the API
  ['smtp'],                         // the SMTP doors: submission and the MX
  ['delivery', 'retention'],        // the workers: delivery to MX hosts; deleting old data, backups
  ['signing'],                      // DKIM
  ['accounts', 'domains'],          // what users manage
  ['events', 'nodes'],              // the event stream and its read models; this node and its listeners
  ['queue'],                        // durable acceptance, delivery status, leases, outcomes, the queue writer
  ['templates'],                    // stored templates
  ['suppressions'],
  ['policy', 'message', 'remote-replies', 'dns'], // pure decisions; addresses and headers; what remote replies mean; DNS
  ['tls'],                          // certificates
  ['store'],                        // the only place that knows SQL dialects
  ['logger.ts'],
  ['config', 'errors.ts'],
];

/**
 * The one exception to the layers: the store's table types (store/schema.ts) type the
 * deliveries' status column with the queue's DeliveryStatus. The queue owns the statuses
 * (queue/delivery-status.ts: the values, the changes allowed between them); the schema only
 * names the column's type, so the import is type-only, erased before it runs. Any other
 * import of schema.ts upwards, and a value import of delivery-status.ts, still fails.
 */
const STORE_SCHEMA = '^src/store/schema\\.ts$';
const DELIVERY_STATUS = '^src/queue/delivery-status\\.ts$';

const alternation = (names) => names.map((name) => name.replace('.', '\\.')).join('|');

/** Paths of src/ in the layer at `index` and every layer above it. */
const atOrAbove = (index) => `^src/(${alternation(layers.slice(0, index + 1).flat())})(/|$)`;

const layerRules = layers.map((layer, index) => ({
  name: `layer-${layer.join('-').replace('.ts', '')}`,
  comment: `src/{${layer.join(',')}} may import only the layers below it (docs/flow.md, "Layers")`,
  severity: 'error',
  from: { path: `^src/(${alternation(layer)})(/|$)`, pathNot: layer.includes('store') ? STORE_SCHEMA : undefined },
  to: { path: atOrAbove(index), pathNot: '^src/$1(/|$)' },
}));

/** An import from paths matching `from` to paths matching `to` fails the check. */
const forbid = (name, comment, from, to) => ({ name, comment, severity: 'error', from: { path: from }, to: { path: to } });

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'layer-store-schema',
      comment: 'store/schema.ts, like the rest of store/, imports only the layers below it, but for the type DeliveryStatus (see STORE_SCHEMA)',
      severity: 'error',
      from: { path: STORE_SCHEMA },
      to: { path: atOrAbove(layers.findIndex((layer) => layer.includes('store'))), pathNot: `^src/store/|${DELIVERY_STATUS}` },
    },
    {
      name: 'layer-store-schema-types-only',
      comment: 'store/schema.ts may import from queue/delivery-status.ts its types only (see STORE_SCHEMA)',
      severity: 'error',
      from: { path: STORE_SCHEMA },
      to: { path: DELIVERY_STATUS, dependencyTypesNot: ['type-only'] },
    },
    forbid('doors-apart', 'the HTTP door and the SMTP door share what lies below them, never each other', '^src/(api|web)/', '^src/smtp/'),
    forbid('smtp-through-the-queue', 'the SMTP doors hand messages to the queue; the workers that take them from there are not theirs to call',
      '^src/smtp/', '^src/(delivery|retention)/'),
    {
      // With every folder in one layer, the layer rules leave no way round a cycle.
      name: 'every-folder-in-a-layer',
      comment: 'a new folder of src/ gets its place in the layers above (and in docs/flow.md)',
      severity: 'error',
      from: { path: '^src/', pathNot: `^src/(${alternation(layers.flat())})(/|$)` },
      to: {},
    },
    forbid('src-not-to-tests', 'the service does not import the suites or the bench', '^src/', '^(test|bench)/'),
    forbid('tests-not-to-bench', 'what the suites and the bench share lives in test/support/ (the bench may import it)', '^test/', '^bench/'),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/web/public/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
  },
};

// Starts @vercel/cosmosdb-server (a third-party reimplementation of the Azure Cosmos DB for NoSQL
// REST API, from npm) with one correction, for the cosmosdb tests (tests/support/emulators.py).
//
//   node cosmosdb_server.js PACKAGE_DIR HOST PORT
//
// PACKAGE_DIR holds node_modules/@vercel/cosmosdb-server (.ci/setup-cosmosdb.sh installs it).
// It serves HTTPS with the package's own self-signed certificate (azure-cosmos does not verify
// certificates of 127.0.0.1 or localhost, its rule for local emulators) and keeps connections
// alive (the package closes each one after its answer unless told otherwise).
//
// The correction: a point read (GET .../docs/{id}) of an item that does not exist. Cosmos DB
// answers 404 with {"code": "NotFound", "message": ...}, but the package's read handler
// (lib/handler/read-document.js; the same code in 1.0.1, 0.15.0 and its predecessor
// @zeit/cosmosdb-server 0.13.4) dereferences the missing
// item while checking its partition key and answers 500 "Cannot read properties of undefined".
// The wrapper sends that one case to the package's own not-found answer (readOperation in
// lib/handler/_document-operations.js); every other request goes to the unmodified handler.
// (The handler skips that check when a request carries x-ms-documentdb-query-enablecrosspartition:
// true, which azure-cosmos sends on every request if the client is built with headers={...}; but
// that header is a query option, and it would also switch off the check for items that exist.)
"use strict";

const path = require("path");

const [packageDir, host, port] = process.argv.slice(2);
if (!port) {
  process.stderr.write("usage: node cosmosdb_server.js PACKAGE_DIR HOST PORT\n");
  process.exit(2);
}
const lib = path.join(packageDir, "node_modules", "@vercel", "cosmosdb-server", "lib");
const readDocument = require(path.join(lib, "handler", "read-document.js"));
const { readOperation } = require(path.join(lib, "handler", "_document-operations.js"));
const headerPartition = require(path.join(lib, "utils", "get-partition-from-header.js"));

// lib/routes.js takes the handler from this module when it is first loaded: replace it before.
const unpatched = readDocument.default;
readDocument.default = (account, req, res, params) => {
  const collection = account.database(params.dbId).collection(params.collId);
  if (collection.read()) {
    const partitionKey = headerPartition.default(req);
    const key = headerPartition.parsePartitionKey(partitionKey, params.docId);
    if (!collection.document(params.docId, key).read()) {
      const result = readOperation(collection, { partitionKey, id: params.docId });
      res.statusCode = result.statusCode;
      return result.body;
    }
  }
  return unpatched(account, req, res, params);
};

const { createHttpsServer } = require(lib);
const server = createHttpsServer({ keepAlive: true });
server.listen(Number(port), host, () => {
  process.stdout.write(`cosmosdb-server listening on https://${host}:${port}/\n`);
});

// Starts s3rver (a local S3-compatible server that checks SigV4 signatures) for Weft's e2e
// tests: node start.js DIR PORT BUCKET ACCESS_KEY_ID SECRET_ACCESS_KEY
// Adds the given key pair (so tests can use a secret of their own and check it is never
// printed), creates BUCKET, and prints "s3rver listening on 127.0.0.1:PORT" when ready.
'use strict';
const S3rver = require('s3rver');
const account = require('s3rver/lib/models/account');

const [dir, port, bucket, accessKeyId, secretAccessKey] = process.argv.slice(2);
if (!dir || !port || !bucket || !accessKeyId || !secretAccessKey) {
  console.error('usage: node start.js DIR PORT BUCKET ACCESS_KEY_ID SECRET_ACCESS_KEY');
  process.exit(2);
}
account.DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);

const server = new S3rver({
  address: '127.0.0.1',
  port: Number(port),
  directory: dir,
  silent: true,
  configureBuckets: [{ name: bucket }],
});
server.run().then(
  (addr) => console.log(`s3rver listening on ${addr.address}:${addr.port}`),
  (err) => {
    console.error(`s3rver failed to start: ${err.message}`);
    process.exit(1);
  },
);
const stop = () => server.close().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

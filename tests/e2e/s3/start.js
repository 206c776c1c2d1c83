// Starts s3rver (a local S3-compatible server) for Weft's e2e tests:
//   node start.js DIR PORT BUCKET ACCESS_KEY_ID SECRET_ACCESS_KEY
// Creates BUCKET and prints "s3rver listening on 127.0.0.1:PORT" when ready.
//
// s3rver 3.7 accepts any Signature V4 request from a known access key without checking the
// signature, so every request first goes through verifySigV4 below: an independent
// implementation of AWS SigV4 (node's crypto) that recomputes the signature from the
// request as it arrived on the wire and answers 403 SignatureDoesNotMatch (or
// InvalidAccessKeyId, AccessDenied, RequestTimeTooSkewed) like S3 does. Only requests that
// pass reach s3rver.
'use strict';
const crypto = require('crypto');
const http = require('http');
const S3rver = require('s3rver');
const account = require('s3rver/lib/models/account');

const [dir, port, bucket, accessKeyId, secretAccessKey] = process.argv.slice(2);
if (!dir || !port || !bucket || !accessKeyId || !secretAccessKey) {
  console.error('usage: node start.js DIR PORT BUCKET ACCESS_KEY_ID SECRET_ACCESS_KEY');
  process.exit(2);
}
const secrets = new Map([[accessKeyId, secretAccessKey]]);
account.DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);  // s3rver's own key check

const sha256 = (data) => crypto.createHash('sha256').update(data).digest('hex');
const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest();

// RFC 3986 encoding as SigV4 wants it (unreserved characters kept, the rest %XX upper case).
function uriEncode(text, keepSlash) {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c) || (keepSlash && c === '/')) out += c;
    else out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

function s3Error(status, code, message) {
  return { status, code, message };
}

function verifySigV4(req) {
  const auth = req.headers['authorization'];
  if (!auth) return s3Error(403, 'AccessDenied', 'Anonymous access is not allowed');
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9\-;]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return s3Error(400, 'AuthorizationHeaderMalformed', 'Malformed Authorization header');
  const [, keyId, date, region, service, signedHeaders, signature] = m;
  const secret = secrets.get(keyId);
  if (secret === undefined) {
    return s3Error(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist');
  }
  const amzDate = req.headers['x-amz-date'] || '';
  if (!amzDate.startsWith(date)) return s3Error(403, 'AccessDenied', 'x-amz-date does not match the credential date');
  const t = Date.parse(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
  if (!Number.isFinite(t) || Math.abs(Date.now() - t) > 15 * 60 * 1000) {
    return s3Error(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large');
  }
  const payloadHash = req.headers['x-amz-content-sha256'];
  if (!payloadHash) return s3Error(400, 'InvalidRequest', 'Missing x-amz-content-sha256');

  const url = new URL(req.url, 'http://placeholder');
  const path = url.pathname.split('/').map((seg) => uriEncode(decodeURIComponent(seg), false)).join('/');
  const query = [...url.searchParams.entries()]
    .map(([k, v]) => [uriEncode(k, false), uriEncode(v, false)])
    .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const names = signedHeaders.split(';');
  if (!names.includes('host')) return s3Error(403, 'AccessDenied', 'host must be signed');
  const headers = names
    .map((n) => `${n}:${String(req.headers[n] ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const canonical = [req.method, path, query, headers, signedHeaders, payloadHash].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  let key = hmac('AWS4' + secret, date);
  key = hmac(key, region);
  key = hmac(key, service);
  key = hmac(key, 'aws4_request');
  const expected = hmac(key, stringToSign).toString('hex');
  if (expected !== signature) {
    return s3Error(403, 'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
  }
  return null;
}

async function main() {
  const s3 = new S3rver({ directory: dir, silent: true, configureBuckets: [{ name: bucket }] });
  await s3.configureBuckets();
  const handle = s3.callback();
  const server = http.createServer((req, res) => {
    const err = verifySigV4(req);
    if (!err) return handle(req, res);
    console.log(`refused ${req.method} ${req.url}: ${err.code}`);
    res.writeHead(err.status, { 'Content-Type': 'application/xml' });
    res.end(req.method === 'HEAD' ? undefined
      : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${err.code}</Code><Message>${err.message}</Message></Error>`);
  });
  server.listen(Number(port), '127.0.0.1', () => {
    const addr = server.address();
    console.log(`s3rver listening on ${addr.address}:${addr.port}`);
  });
  const stop = () => {
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  console.error(`s3rver failed to start: ${err.message}`);
  process.exit(1);
});

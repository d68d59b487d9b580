// A TLS front for a plain-HTTP gateway, for the JS client run until the gateway terminates TLS
// itself (`serve --tls-cert/--tls-key`, issue 6 item 4). The JS Graph client only sends its
// token to https:// URLs and only follows https:// nextLinks, so it cannot be tested over http.
//
// Forwards every request byte for byte (method, path, headers, body) to UPSTREAM and the answer
// back unchanged; the gateway's public_url must be this front's https URL so that its
// nextLinks and Locations point here. Prints `listening <port>` once ready.
//
//   TLS_CERT=cert.pem TLS_KEY=key.pem UPSTREAM=http://127.0.0.1:8080 LISTEN_PORT=8443 node tls_front.js
"use strict";

const fs = require("node:fs");
const http = require("node:http");
const https = require("node:https");

const upstream = new URL(process.env.UPSTREAM);
const server = https.createServer(
    { cert: fs.readFileSync(process.env.TLS_CERT), key: fs.readFileSync(process.env.TLS_KEY) },
    (req, res) => {
        const forward = http.request(
            {
                host: upstream.hostname,
                port: upstream.port,
                method: req.method,
                path: req.url,
                headers: req.headers,
            },
            (answer) => {
                res.writeHead(answer.statusCode, answer.rawHeaders);
                answer.pipe(res);
            },
        );
        forward.on("error", (e) => {
            res.writeHead(502, { "content-type": "text/plain" });
            res.end(`tls_front: ${e.message}`);
        });
        req.pipe(forward);
    },
);
server.listen(Number(process.env.LISTEN_PORT || 0), "127.0.0.1", () => {
    console.log(`listening ${server.address().port}`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));

// Drives dep-gateway with the real JavaScript Graph client (@microsoft/microsoft-graph-client)
// and its DEFAULT middleware chain (auth, retry, redirect, telemetry), pointed at the gateway
// over HTTPS. Run by tests/api/clients.rs (once per database, on a fresh gateway); by hand:
//
//   GATEWAY_URL=https://localhost:8443 GATEWAY_TOKEN=... NODE_EXTRA_CA_CERTS=cert.pem \
//       node tests/clients/js/graph_client.js
//
// Environment:
//   GATEWAY_URL        the gateway's public https URL (no /beta, no trailing slash)
//   GATEWAY_TOKEN      a ReadWrite token of a tenant with no data yet
//   GATEWAY_PAGE_SIZE  the gateway's max_page_size (paging creates more than two pages)
//   APPLE_SIM_URL      the bundled Apple DEP simulator (server token upload and sync)
//
// Prints one line per check and `N passed, N failed`; exits 1 on any failure.
"use strict";

const crypto = require("node:crypto");
const {
    BatchRequestContent,
    BatchResponseContent,
    Client,
    GraphError,
    PageIterator,
    ResponseType,
} = require("@microsoft/microsoft-graph-client");

const GATEWAY = process.env.GATEWAY_URL.replace(/\/+$/, "");
const TOKEN = process.env.GATEWAY_TOKEN;
const PAGE_SIZE = Number(process.env.GATEWAY_PAGE_SIZE || "1000");
const SIM = (process.env.APPLE_SIM_URL || "").replace(/\/+$/, "");
const RUN = crypto.randomBytes(4).toString("hex");

// The client pointed at the gateway: https base URL, the gateway's host name as a custom host
// (so that the default AuthenticationHandler attaches the token), a static token.
const client = Client.init({
    baseUrl: `${GATEWAY}/`,
    defaultVersion: "beta",
    customHosts: new Set([new URL(GATEWAY).hostname]),
    authProvider: (done) => done(null, TOKEN),
});

const SETTINGS = "/deviceManagement/depOnboardingSettings";
const state = {};

function check(cond, what) {
    if (!cond) throw new Error(what);
}

async function expectError(promise, status, code) {
    try {
        await promise;
    } catch (e) {
        check(e instanceof GraphError, `not a GraphError: ${e}`);
        check(e.statusCode === status, `status ${e.statusCode}, wanted ${status}`);
        check(e.code === code, `code ${e.code}, wanted ${code}`);
        check(e.message, "empty message");
        return e;
    }
    throw new Error(`no error, wanted ${status} ${code}`);
}

// All items of a collection through the client's PageIterator; also the number of pages.
async function iterateAll(firstPage) {
    const items = [];
    let pages = 1;
    const iterator = new PageIterator(client, firstPage, (item) => {
        items.push(item);
        return true;
    });
    const fetchNext = iterator.fetchAndUpdateNextPageData.bind(iterator);
    iterator.fetchAndUpdateNextPageData = async () => {
        pages += 1;
        return fetchNext();
    };
    await iterator.iterate();
    return { items, pages };
}

// ---------------------------------------------------------------------------------------------

async function settingsCrud() {
    const created = await client.api(SETTINGS).post({ tokenName: `js-${RUN}-main` });
    check(created.id && created.tokenName === `js-${RUN}-main`, JSON.stringify(created));
    check(created.tokenType === "none", `tokenType ${created.tokenType}`);
    state.main = created.id;
    const got = await client.api(`${SETTINGS}/${created.id}`).select(["id", "tokenName"]).get();
    check(got.tokenName === `js-${RUN}-main` && got.tokenType === undefined, JSON.stringify(got));
    const patched = await client.api(`${SETTINGS}/${created.id}`).patch({ roleScopeTagIds: ["0", "3"] });
    check(patched === undefined, "PATCH should answer 204");
    const again = await client.api(`${SETTINGS}/${created.id}`).get();
    check(JSON.stringify(again.roleScopeTagIds) === '["0","3"]', JSON.stringify(again.roleScopeTagIds));
    const victim = await client.api(SETTINGS).post({ tokenName: `js-${RUN}-victim` });
    check((await client.api(`${SETTINGS}/${victim.id}`).delete()) === undefined, "DELETE should answer 204");
    await expectError(client.api(`${SETTINGS}/${victim.id}`).get(), 404, "ResourceNotFound");
}

async function telemetryHeadersAreEchoed() {
    // The default TelemetryHandler sends client-request-id and SdkVersion to custom hosts.
    const raw = await client.api(`${SETTINGS}/${state.main}`).responseType(ResponseType.RAW).get();
    check(raw.status === 200, `status ${raw.status}`);
    const sent = raw.headers.get("client-request-id");
    check(/^[0-9a-f-]{36}$/.test(sent || ""), `client-request-id not echoed: ${sent}`);
    check(raw.headers.get("request-id"), "no request-id");
    check((raw.headers.get("content-type") || "").startsWith("application/json"), raw.headers.get("content-type"));
}

async function settingsPagingWithPageIterator() {
    const ids = new Set([state.main]);
    for (let i = 0; i < 2 * PAGE_SIZE; i++) {
        const s = await client.api(SETTINGS).post({ tokenName: `js-${RUN}-${String(i).padStart(2, "0")}` });
        ids.add(s.id);
    }
    const first = await client.api(SETTINGS).get();
    check(first.value.length <= PAGE_SIZE, `first page has ${first.value.length}`);
    check((first["@odata.nextLink"] || "").startsWith(`${GATEWAY}/beta/`), `nextLink ${first["@odata.nextLink"]}`);
    const { items, pages } = await iterateAll(first);
    const got = items.map((s) => s.id);
    check(new Set(got).size === got.length, "an item came twice");
    check(got.length === ids.size && got.every((id) => ids.has(id)), `iterated ${got.length}, created ${ids.size}`);
    check(pages >= 3, `only ${pages} page(s)`);
    state.settingCount = ids.size;
}

async function queryOptionsAndCount() {
    const page = await client
        .api(SETTINGS)
        .select(["id", "tokenName"])
        .filter(`startswith(tokenName,'js-${RUN}-0')`)
        .orderby("tokenName desc")
        .top(2)
        .count(true)
        .get();
    const names = page.value.map((s) => s.tokenName);
    check(page["@odata.count"] === Math.min(2 * PAGE_SIZE, 10), `@odata.count ${page["@odata.count"]}`);
    check(names.length === 2 && names[0] > names[1], JSON.stringify(names));
    const count = await client.api(`${SETTINGS}/$count`).get();
    check(String(count) === String(state.settingCount), `$count ${count}`);
    const filtered = await client.api(`${SETTINGS}/$count`).filter(`tokenName eq 'js-${RUN}-main'`).get();
    check(String(filtered) === "1", `filtered $count ${filtered}`);
}

async function profilesCrudAndActions() {
    const profiles = `${SETTINGS}/${state.main}/enrollmentProfiles`;
    const ios = await client.api(profiles).post({
        "@odata.type": "#microsoft.graph.depIOSEnrollmentProfile",
        displayName: "iOS",
        requiresUserAuthentication: false,
        iTunesPairingMode: "allow",
        sharedIPadMaximumUserCount: 2,
        enabledSkipKeys: ["Siri"],
    });
    check(ios["@odata.type"] === "#microsoft.graph.depIOSEnrollmentProfile", ios["@odata.type"]);
    check(ios.id.startsWith(`${state.main}_`), `id ${ios.id}`);
    const configurator = await client.api(profiles).post({
        "@odata.type": "#microsoft.graph.enrollmentProfile",
        displayName: "Carts",
        requiresUserAuthentication: false,
    });
    for (let i = 0; i < PAGE_SIZE; i++) {
        await client.api(profiles).post({ "@odata.type": "#microsoft.graph.depTvOSEnrollmentProfile", displayName: `tv ${i}` });
    }
    const { items, pages } = await iterateAll(await client.api(profiles).get());
    check(items.length === PAGE_SIZE + 2 && pages >= 2, `${items.length} profiles in ${pages} pages`);
    check(items.find((p) => p.id === ios.id).iTunesPairingMode === "allow", "derived property lost in the list");

    await client.api(`${profiles}/${ios.id}`).patch({
        "@odata.type": "#microsoft.graph.depIOSEnrollmentProfile",
        description: "patched",
    });
    const got = await client.api(`${profiles}/${ios.id}`).get();
    check(got.description === "patched" && got.sharedIPadMaximumUserCount === 2, JSON.stringify(got));

    // Bodiless actions: the client sends `Content-Type: application/json` with an empty body.
    check((await client.api(`${profiles}/${ios.id}/setDefaultProfile`).post(null)) === undefined, "setDefaultProfile");
    const def = await client.api(`${SETTINGS}/${state.main}/defaultIosEnrollmentProfile`).get();
    check(def.id === ios.id && def.isDefault === true, JSON.stringify(def));

    const exported = await client.api(`${profiles}/${configurator.id}/exportMobileConfig()`).get();
    const plist = Buffer.from(exported.value, "base64").toString();
    check(plist.startsWith("<?xml") && plist.includes("Carts"), plist.slice(0, 80));

    const identities = `${SETTINGS}/${state.main}/importedAppleDeviceIdentities`;
    const serials = [`JS${RUN.toUpperCase()}01`, `JS${RUN.toUpperCase()}02`];
    const imported = await client.api(`${identities}/importAppleDeviceIdentityList`).post({
        importedAppleDeviceIdentities: serials.map((serialNumber) => ({ serialNumber, platform: "ios" })),
        overwriteImportedDeviceIdentities: false,
    });
    check(imported.value.length === 2 && imported.value.every((r) => r.status === true), JSON.stringify(imported));
    check(imported.value[0]["@odata.type"] === "#microsoft.graph.importedAppleDeviceIdentityResult", "result type");
    await client.api(`${profiles}/${ios.id}/updateDeviceProfileAssignment`).post({ deviceIds: serials });
    const guid = ios.id.split("_")[1];
    const assigned = await client.api(identities).filter(`requestedEnrollmentProfileId eq '${guid}'`).get();
    check(assigned.value.length === 2, `${assigned.value.length} assigned`);
    await expectError(
        client.api(`${profiles}/${ios.id}/updateDeviceProfileAssignment`).post({ deviceIds: "C02NOTANARRAY" }),
        400,
        "BadRequest",
    );
    await client.api(`${profiles}/${configurator.id}`).delete();
    await expectError(client.api(`${profiles}/${configurator.id}`).get(), 404, "ResourceNotFound");
}

async function appleActions() {
    const setting = `${SETTINGS}/${state.main}`;
    const first = await client.api(`${setting}/getEncryptionPublicKey()`).get();
    check((first.value || "").includes("BEGIN CERTIFICATE"), "getEncryptionPublicKey");
    const generated = await client.api(`${setting}/generateEncryptionPublicKey`).post({});
    check(generated.value !== first.value && generated.value.includes("BEGIN CERTIFICATE"), "generateEncryptionPublicKey");
    const pem = (await client.api(`${setting}/getEncryptionPublicKey()`).get()).value;
    check(pem === generated.value, "getEncryptionPublicKey does not return the generated key");

    check(SIM, "APPLE_SIM_URL is not set");
    const server = `js-${RUN}`;
    let resp = await fetch(`${SIM}/admin/servers`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: server, devices: PAGE_SIZE + 1 }),
    });
    check(resp.ok, `simulator ${resp.status}`);
    resp = await fetch(`${SIM}/admin/servers/${server}/p7m`, { method: "POST", body: pem });
    check(resp.ok, `simulator p7m ${resp.status}`);
    const p7m = await resp.text();
    await client.api(`${setting}/uploadDepToken`).post({ appleId: "mdm@example.com", depToken: p7m });
    await client.api(`${setting}/syncWithAppleDeviceEnrollmentProgram`).post(null);
    let synced;
    for (let i = 0; i < 300; i++) {
        synced = await client.api(setting).get();
        if (!synced.lastSuccessfulSyncDateTime.startsWith("0001-")) break;
        await new Promise((r) => setTimeout(r, 200));
    }
    check(!synced.lastSuccessfulSyncDateTime.startsWith("0001-"), `no sync: ${synced.lastSyncErrorCode}`);
    check(synced.syncedDeviceCount === PAGE_SIZE + 1 && synced.tokenType === "dep", JSON.stringify(synced));

    await client.api(`${setting}/shareForSchoolDataSyncService`).post(null);
    check((await client.api(setting).get()).shareTokenWithSchoolDataSyncService === true, "share");
    await client.api(`${setting}/microsoft.graph.unshareForSchoolDataSyncService`).post({});
    check((await client.api(setting).get()).shareTokenWithSchoolDataSyncService === false, "unshare");
    const expiring = await client
        .api(`${SETTINGS}/getExpiringVppTokenCount(expiringBeforeDateTime='2099-01-01T00:00:00Z')`)
        .get();
    check(expiring.value === 0, `getExpiringVppTokenCount ${JSON.stringify(expiring)}`);
}

async function errors() {
    await expectError(client.api(`${SETTINGS}/${crypto.randomUUID()}`).get(), 404, "ResourceNotFound");
    await expectError(client.api(SETTINGS).filter("tokenName eq").get(), 400, "BadRequest");
    await expectError(client.api(SETTINGS).post({ tokenName: 42 }), 400, "BadRequest");
    await expectError(client.api("/deviceManagement/nothingHere").get(), 400, "BadRequest");
}

// $batch with BatchRequestContent. On Node the requests are undici `Request`s, which need
// absolute URLs; the client strips scheme and host, so sub-request URLs reach the gateway as
// `/beta/deviceManagement/...`. The client only accepts parallel or serial dependency chains.
async function batch() {
    const base = `${GATEWAY}/beta`;
    const content = new BatchRequestContent([
        { id: "1", request: new Request(`${base}${SETTINGS}/${state.main}`, { method: "GET" }) },
        {
            id: "2",
            dependsOn: ["1"],
            request: new Request(`${base}${SETTINGS}`, {
                method: "POST",
                headers: { "Content-Type": "application/json" },
                body: JSON.stringify({ tokenName: `js-${RUN}-batch` }),
            }),
        },
        { id: "3", request: new Request(`${base}${SETTINGS}/$count`, { method: "GET" }), dependsOn: ["2"] },
        {
            id: "4",
            request: new Request(`${base}${SETTINGS}/${crypto.randomUUID()}`, { method: "GET" }),
            dependsOn: ["3"],
        },
    ]);
    const answer = await client.api("/$batch").post(await content.getContent());
    const responses = new BatchResponseContent(answer);
    const one = responses.getResponseById("1");
    check(one.status === 200 && (await one.json()).id === state.main, `1: ${one.status}`);
    const two = responses.getResponseById("2");
    check(two.status === 201 && (await two.json()).tokenName === `js-${RUN}-batch`, `2: ${two.status}`);
    const three = responses.getResponseById("3");
    check(three.status === 200 && (await three.text()) === String(state.settingCount + 1), `3: ${three.status}`);
    const four = responses.getResponseById("4");
    check(four.status === 404 && (await four.json()).error.code === "ResourceNotFound", `4: ${four.status}`);
}

const CHECKS = [
    ["settings CRUD", settingsCrud],
    ["client-request-id echoed", telemetryHeadersAreEchoed],
    ["settings paging with PageIterator", settingsPagingWithPageIterator],
    ["query options and $count", queryOptionsAndCount],
    ["profiles, identities and profile actions", profilesCrudAndActions],
    ["Apple actions, sync and functions", appleActions],
    ["errors as GraphError", errors],
    ["$batch with BatchRequestContent", batch],
];

(async () => {
    let passed = 0;
    let failed = 0;
    for (const [name, fn] of CHECKS) {
        const started = Date.now();
        try {
            await fn();
            passed += 1;
            console.log(`ok   ${name} (${((Date.now() - started) / 1000).toFixed(2)}s)`);
        } catch (e) {
            failed += 1;
            const detail = e instanceof GraphError ? `GraphError ${e.statusCode} ${e.code}: ${e.message}` : e.stack || e;
            console.log(`FAIL ${name}: ${detail}`);
        }
    }
    console.log(`js microsoft-graph-client: ${passed} passed, ${failed} failed`);
    process.exitCode = failed ? 1 : 0;
})();

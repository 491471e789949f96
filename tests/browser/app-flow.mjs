// The web app in a real browser: Debian's Chromium, driven by playwright-core,
// against a running stack. Started by tests/api/browser.rs, which starts the
// stack and passes its URL:
//
//   node tests/browser/app-flow.mjs BASE_URL OUTPUT_DIR PHOTO_FILE
//
// with NODE_MODULES naming the folder that holds playwright-core, FLOW=accounts
// to leave out the photo step (for front doors without the local upload
// route, such as the Worker in front of the API alone), and
// EXPECT_EDGE_CACHE=1 to require a second visitor's files from the edge. At each
// width (a phone's 390 px and a desktop's 1280 px) one person signs up, sees a
// field-level error, edits the profile, meets a conflicting edit, logs out and
// back in with the keyboard alone, reads someone else's profile (and reloads
// it), uploads a photo, runs a job with every operation, sees the results and
// deletes the account. Any console error, page error, failed request or
// error status that the step did not expect fails the run; each step leaves a
// screenshot in OUTPUT_DIR/<width>/.

import { createRequire } from "node:module";
import { join } from "node:path";
import { mkdirSync } from "node:fs";
import assert from "node:assert/strict";

const [base, outDir, photo] = process.argv.slice(2);
const withPhotos = process.env.FLOW !== "accounts";
const require = createRequire(join(process.env.NODE_MODULES, "noop.js"));
const { chromium } = require("playwright-core");

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless=new", "--no-sandbox"],
});

/** Calls the API from outside the browser (another client of the same users). */
async function call(method, path, { body, headers = {} } = {}) {
  const response = await fetch(base + path, {
    method,
    headers: { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, data: text ? JSON.parse(text) : null };
}

function profile(first, city) {
  return {
    firstName: first, lastName: "Smith",
    address: { streetAddress: "21 2nd Street", city, state: "NY", postalCode: 10021 },
    phoneNumbers: ["212 555-1234"],
  };
}

let serial = 0;
const email = (name) => `${name}.${process.pid}.${Date.now()}.${serial++}@example.com`;
const password = "correct horse battery staple";

/** Watches a page: everything that went wrong, unless the current step expected it. */
function watch(page) {
  const problems = [];
  let expected = [];
  const allowed = (status, url) => expected.some(([s, pattern]) => s === status && pattern.test(url));
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("requestfailed", (request) => {
    // A request the page itself cancelled (a reload or navigation while a
    // fetch or an image was loading) did not fail; the server never refused it.
    if (request.failure()?.errorText === "net::ERR_ABORTED") return;
    problems.push(`request failed: ${request.method()} ${request.url()} ${request.failure()?.errorText}`);
  });
  const recent = [];
  page.on("request", (request) => recent.push(`→ ${request.method()} ${request.url()}`));
  // Error statuses a step expected, by status: Chromium also logs each one
  // to the console, sometimes after the next step has begun (or before the
  // answer's event), so the console lines are matched to expected answers
  // by count, at the end.
  const expectedAnswers = new Map();
  const loggedAnswers = new Map();
  page.on("response", (response) => {
    recent.push(`← ${response.status()} ${response.request().method()} ${response.url()}`);
    if (response.status() < 400) return;
    if (allowed(response.status(), response.url())) {
      expectedAnswers.set(response.status(), (expectedAnswers.get(response.status()) || 0) + 1);
    } else {
      problems.push(`unexpected ${response.status()} from ${response.request().method()} ${response.url()}`);
    }
  });
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    const status = message.text().match(/the server responded with a status of (\d+)/)?.[1];
    if (status) {
      loggedAnswers.set(Number(status), (loggedAnswers.get(Number(status)) || 0) + 1);
      return;
    }
    problems.push(`console error: ${message.text()}`);
  });
  return {
    /** Everything that went wrong, the console's error statuses matched to the expected answers. */
    problems: () => {
      const unmatched = [...loggedAnswers].filter(([status, count]) => count > (expectedAnswers.get(status) || 0));
      return [...problems, ...unmatched.map(([status, count]) => `console: ${count} answers of status ${status}, fewer expected`)];
    },
    /** The last requests and answers, for a failure's report. */
    recent: () => recent.slice(-12).join("\n"),
    /** The step about to run may see these statuses from these URLs. */
    expect(list) { expected = list; },
  };
}

async function screenshot(page, dir, name) {
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

/** Presses Tab until `selector` has the focus: it is reachable by keyboard. */
async function tabTo(page, selector) {
  for (let presses = 0; presses < 60; presses++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s), selector)) return;
    await page.keyboard.press("Tab");
  }
  assert.fail(`${selector} is not reachable with the Tab key`);
}

/** Every visible control has an accessible name (a label, or text). */
async function everyControlIsLabelled(page) {
  const unnamed = await page.evaluate(() =>
    [...document.querySelectorAll("input, select, button")]
      .filter((element) => element.offsetParent !== null)
      .filter((element) => {
        if (element.tagName === "BUTTON") return !(element.textContent.trim() || element.getAttribute("aria-label"));
        return !(element.labels?.length || element.getAttribute("aria-label"));
      })
      .map((element) => element.outerHTML),
  );
  assert.deepEqual(unnamed, [], "controls without a label");
}

async function fillProfile(page, prefix, values) {
  await page.fill(`#${prefix}-firstName`, values.firstName);
  await page.fill(`#${prefix}-lastName`, values.lastName);
  await page.fill(`#${prefix}-streetAddress`, values.streetAddress);
  await page.fill(`#${prefix}-city`, values.city);
  await page.fill(`#${prefix}-state`, values.state);
  await page.fill(`#${prefix}-postalCode`, values.postalCode);
}

async function notice(page, text) {
  await page.locator("#notice").filter({ hasText: text }).waitFor();
}

async function flow(width, height) {
  const dir = join(outDir, `${width}`);
  mkdirSync(dir, { recursive: true });
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  const seen = watch(page);
  try {
    await steps(page, seen, dir);
  } catch (error) {
    // What the page showed when the step failed, to read beside the error.
    await screenshot(page, dir, "failed").catch(() => {});
    const shown = await page.textContent("#notice").catch(() => "");
    console.error(`at ${width} px, on ${page.url()}, the notice read: ${shown}\nproblems: ${seen.problems().join("\n")}\nlast requests:\n${seen.recent()}`);
    throw error;
  }
  await context.close();
  assert.deepEqual(seen.problems(), [], `at ${width} px`);
}

async function steps(page, seen, dir) {
  const ready = () => page.waitForSelector("body[data-ready=true]");

  // 1. The first visit: logged out, so the session check is a 401.
  seen.expect([[401, /\/auth\/session$/]]);
  const first = await page.goto(base + "/");
  for (const name of ["content-security-policy", "x-content-type-options", "referrer-policy", "x-frame-options"]) {
    assert.ok(first.headers()[name], `the page carries ${name}`);
  }
  assert.match(first.headers()["content-security-policy"], /script-src 'self';/);
  await ready();
  await page.locator("#view-welcome").waitFor();
  await everyControlIsLabelled(page);
  await screenshot(page, dir, "01-welcome");

  // 2. A sign-up the API refuses: each problem beside its field, focus on the first.
  seen.expect([[422, /\/auth\/signup$/]]);
  const mine = email("jane");
  await page.fill("#signup-email", "not-an-email");
  await page.fill("#signup-password", "short");
  await fillProfile(page, "signup", { firstName: "Jane", lastName: "Doe", streetAddress: "1 Main St", city: "Springfield", state: "IL", postalCode: "62701" });
  await page.click("#signup button:text('Sign up')");
  await page.locator("#signup-email-error").waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), "signup-email");
  assert.equal(await page.getAttribute("#signup-email", "aria-invalid"), "true");
  await page.locator("#signup-password-error").waitFor();
  await screenshot(page, dir, "02-signup-errors");

  // 3. The sign-up that works, with two phone numbers; the token stays out of the page.
  seen.expect([]);
  await page.fill("#signup-email", mine);
  await page.fill("#signup-password", password);
  await page.click("#signup .add-phone");
  await page.fill("#signup-phone-0", "212 555-1234");
  await page.click("#signup .add-phone");
  await page.fill("#signup-phone-1", "646 555-4567");
  const [signedUp] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith("/auth/signup")),
    page.click("#signup button:text('Sign up')"),
  ]);
  assert.equal(signedUp.status(), 201);
  const { user, session } = await signedUp.json();
  await page.waitForURL(`${base}/me`);
  await page.locator("#who").filter({ hasText: "Jane Doe" }).waitFor();
  assert.equal(await page.inputValue("#edit-phone-1"), "646 555-4567");
  assert.ok(!(await page.content()).includes(session.token), "the token is not on the page");
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie);
  assert.ok(!stored.includes(session.token), "the script keeps no token");
  await everyControlIsLabelled(page);
  await screenshot(page, dir, "03-profile");

  // 4. An edit with a field-level error, then the edit that works.
  seen.expect([[422, /\/users\/\d+$/]]);
  await page.fill("#edit-postalCode", "abc");
  await page.click("#edit button:text('Save changes')");
  await page.locator("#edit-postalCode-error").waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), "edit-postalCode");
  await screenshot(page, dir, "04-edit-error");
  seen.expect([]);
  await page.fill("#edit-postalCode", "62704");
  await page.fill("#edit-city", "Shelbyville");
  await page.click("#edit button:text('Save changes')");
  await notice(page, "saved");
  assert.equal(await page.locator(".field-error").count(), 0);
  const reread = await call("GET", `/users/${user.id}`, { headers: { "cache-control": "no-cache" } });
  assert.equal(reread.data.address.city, "Shelbyville");
  assert.equal(reread.data.address.postalCode, 62704);

  // 5. Someone else changes the profile (another device): saving is a 412,
  //    and the newer version can be loaded.
  const other = await call("POST", "/auth/login", { body: { email: mine, password } });
  const current = await call("GET", `/users/${user.id}`, { headers: { authorization: `Bearer ${other.data.token}` } });
  const changed = await call("PUT", `/users/${user.id}`, {
    body: { ...profile("Jane", "Capital City"), lastName: "Doe" },
    headers: { authorization: `Bearer ${other.data.token}`, "if-match": current.headers.get("etag") },
  });
  assert.equal(changed.status, 200);
  seen.expect([[412, /\/users\/\d+$/]]);
  await page.fill("#edit-city", "Ogdenville");
  await page.click("#edit button:text('Save changes')");
  await page.locator("#conflict").waitFor();
  await screenshot(page, dir, "05-conflict");
  seen.expect([]);
  await page.click("#load-newer");
  await page.waitForFunction(() => document.querySelector("#edit-city").value === "Capital City");

  // 6. Log out, then log in with the keyboard alone.
  seen.expect([[401, /\/auth\/session$/]]);
  await page.click("#logout");
  await notice(page, "logged out");
  await page.waitForURL(`${base}/`);

  // 6a. A wrong password is said plainly; a login flood gets a 429 that says when to retry.
  seen.expect([[401, /\/auth\/(login|session)$/], [429, /\/auth\/login$/]]);
  await page.fill("#login-email", mine);
  await page.fill("#login-password", "not the password at all");
  await page.click("#login button:text('Log in')");
  await notice(page, "password");
  const flooded = email("nobody");
  for (let attempt = 0; attempt < 12; attempt++) {
    await page.fill("#login-email", flooded);
    await page.fill("#login-password", "not the password at all");
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/auth/login")),
      page.click("#login button:text('Log in')"),
    ]);
    if (answer.status() === 429) break;
  }
  await notice(page, /Too many requests\. Try again in \d+ seconds\./);
  await screenshot(page, dir, "05b-rate-limited");

  await page.fill("#login-email", "");
  await page.fill("#login-password", "");
  await tabTo(page, "#login-email");
  await page.keyboard.type(mine);
  await page.keyboard.press("Tab");
  await page.keyboard.type(password);
  await page.keyboard.press("Enter");
  await page.waitForURL(`${base}/me`);
  await notice(page, "logged in");

  // 7. Someone else's public profile: opened by id, and again by reloading its link.
  seen.expect([]);
  const stranger = await call("POST", "/auth/signup", { body: { email: email("sam"), password, ...profile("Sam", "Boston") } });
  assert.equal(stranger.status, 201);
  await page.fill("#open-id", String(stranger.data.user.id));
  await page.press("#open-id", "Enter");
  await page.waitForURL(`${base}/u/${stranger.data.user.id}`);
  await page.locator("#user-name").filter({ hasText: "Sam Smith" }).waitFor();
  await page.reload();
  await ready();
  await page.locator("#user-name").filter({ hasText: "Sam Smith" }).waitFor();
  await page.locator("#user-details").filter({ hasText: "Boston" }).waitFor();
  await screenshot(page, dir, "06-public-profile");

  // 8. A photo: upload with progress, a crop chosen by dragging, every
  //    operation, and the results beside the original.
  if (withPhotos) await photoStep(page, dir);

  // 9. Delete the account: it is gone, and the browser is logged out.
  seen.expect([[401, /\/auth\/session$/]]);
  await page.click("a:text('My profile')");
  await page.click("#delete");
  await page.click("#delete-confirm");
  await notice(page, "deleted");
  await page.waitForURL(`${base}/`);
  assert.equal((await call("GET", `/users/${user.id}`, { headers: { "cache-control": "no-cache" } })).status, 404);
  await screenshot(page, dir, "08-deleted");
}

async function photoStep(page, dir) {
  await page.click("a:text('Photo studio')");
  await page.waitForURL(`${base}/studio`);
  await page.setInputFiles("#photo-file", photo);
  await page.waitForFunction(() => document.querySelector("#original").naturalWidth > 0);
  await page.click("#upload button:text('Upload')");
  await page.locator("#job").waitFor();
  assert.equal(await page.getAttribute("#upload-progress", "value"), "100");
  const area = await page.locator("#original").boundingBox();
  await page.mouse.move(area.x + area.width * 0.1, area.y + area.height * 0.1);
  await page.mouse.down();
  await page.mouse.move(area.x + area.width * 0.6, area.y + area.height * 0.7, { steps: 5 });
  await page.mouse.up();
  assert.ok(await page.isChecked("#job [name=crop]"), "dragging chose a crop");
  assert.ok(Number(await page.inputValue("#crop-width")) > 0);
  for (const op of ["resize", "thumbnail", "sharpen", "blur"]) await page.check(`#job [name=${op}]`);
  await page.fill("#resize-width", "96");
  await page.fill("#thumbnail-size", "32");
  await page.selectOption("#job-format", "png");
  await page.click("#job button:text('Process')");
  await page.locator("#job-status").filter({ hasText: /^(done|failed)$/ }).waitFor({ timeout: 60_000 });
  assert.equal(await page.textContent("#job-status"), "done");
  await page.locator("#outputs img").nth(1).waitFor();
  await page.waitForFunction(() => [...document.querySelectorAll("#outputs img")].every((image) => image.complete && image.naturalWidth > 0));
  const widths = await page.$$eval("#outputs img", (images) => images.map((image) => image.naturalWidth).sort((a, b) => a - b));
  assert.deepEqual(widths.length, 2, "a thumbnail and the result");
  assert.ok(widths[0] <= 32 && widths[1] === 96, `output widths ${widths}`);
  await screenshot(page, dir, "07-photo-job");
}

/**
 * A second visitor (a fresh browser cache) gets the app's files from the edge
 * cache; what that first load costs them: bytes over the wire and the time
 * until the page answers input.
 */
async function secondVisitUsesTheEdgeCache() {
  const context = await browser.newContext();
  const page = await context.newPage();
  const labels = new Map();
  page.on("response", (response) => {
    if (new URL(response.url()).pathname.startsWith("/assets/")) labels.set(response.url(), response.headers()["x-cache"]);
  });
  await page.goto(base + "/");
  await page.waitForSelector("body[data-ready=true]");
  const load = await page.evaluate(() => {
    const [navigation] = performance.getEntriesByType("navigation");
    const resources = performance.getEntriesByType("resource");
    return {
      bytes: navigation.transferSize + resources.reduce((sum, entry) => sum + entry.transferSize, 0),
      files: 1 + resources.length,
      interactiveMs: Math.round(performance.now()),
      domInteractiveMs: Math.round(navigation.domInteractive),
    };
  });
  await context.close();
  assert.ok(labels.size >= 2, "the page loads its script and style sheet");
  if (process.env.EXPECT_EDGE_CACHE === "1") {
    for (const [url, label] of labels) assert.equal(label, "HIT", `${url} from the edge cache`);
  }
  return { assets: labels.size, ...load };
}

try {
  await flow(390, 844);
  await flow(1280, 900);
  const load = await secondVisitUsesTheEdgeCache();
  console.log(`browser flow passed at 390 and 1280 px (${withPhotos ? "with" : "without"} photos)`);
  console.log(
    `first load of a new visitor: ${load.files} files, ${load.bytes} bytes transferred, ` +
      `DOM interactive at ${load.domInteractiveMs} ms, ready (session checked, page drawn) at ${load.interactiveMs} ms; ` +
      `${load.assets} assets ${process.env.EXPECT_EDGE_CACHE === "1" ? "all from the edge cache" : "loaded"}`,
  );
} finally {
  await browser.close();
}

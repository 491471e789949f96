// The web app: plain modules over the JSON API, no framework and no build
// step (the edge and the API embed this file as it is, under a content hash).
//
// The session lives in the HttpOnly cookie the API sets; this script never
// reads, shows or stores the token the API also returns in its answers. The
// API is the only validator: its problems (RFC 9457, with a JSON Pointer per
// invalid value) are shown next to the field they name.

const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];
/** A form's control by name (`form.blur` would be the form's own method). */
const field = (form, name) => form.elements.namedItem(name);

/** A failed API call: the status (0 when the service could not be reached) and its problem. */
class ApiError extends Error {
  constructor(status, problem, retryAfter) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }
}

/**
 * Calls the API on this origin; resolves to {status, data, headers}, throws
 * ApiError. `fresh` reads past every cache (the browser's and the edge's):
 * for your own data, which a cached public copy would show as it was.
 */
async function api(method, path, { body, headers = {}, fresh = false } = {}) {
  const init = { method, credentials: "same-origin", headers: { accept: "application/json", ...headers } };
  if (fresh) {
    init.cache = "no-cache";
    init.headers["cache-control"] = "no-cache";
  }
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, { detail: "The service could not be reached. Check your connection and try again." });
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = { detail: text }; }
  }
  if (!response.ok) throw new ApiError(response.status, data || {}, response.headers.get("retry-after"));
  return { status: response.status, data, headers: response.headers };
}

/** A sentence for a person about a failed call. */
function describe(error) {
  if (!(error instanceof ApiError)) return `Something went wrong: ${error.message}`;
  if (error.status === 0) return error.problem.detail;
  if (error.status === 429) {
    const wait = Number(error.retryAfter);
    return `Too many requests. Try again in ${Number.isFinite(wait) && wait > 0 ? `${wait} seconds` : "a moment"}.`;
  }
  if (error.status >= 500) {
    return `The service had a problem (${error.status}${error.problem.title ? `, ${error.problem.title}` : ""}). Try again in a moment.`;
  }
  return error.problem.detail || error.problem.title || `The request failed (${error.status}).`;
}

// ---- messages -------------------------------------------------------------

const notice = $("#notice");
const progress = $("#progress");

function tell(text, kind = "error") {
  notice.textContent = text;
  notice.className = kind;
  notice.hidden = false;
}

function quiet() {
  notice.hidden = true;
  notice.textContent = "";
}

function say(text) {
  progress.textContent = text;
}

/** Clears the field errors of `form`. */
function clearErrors(form) {
  for (const error of $$(".field-error", form)) error.remove();
  for (const input of $$("[aria-invalid]", form)) {
    input.removeAttribute("aria-invalid");
    input.removeAttribute("aria-describedby");
  }
}

/**
 * Shows `error` on `form`: each problem pointer beside the input it names
 * (`pointers` maps pointers the form does not carry itself), focus on the
 * first; whatever names no field goes to the notice.
 */
function showError(form, error, pointers = {}) {
  clearErrors(form);
  const unplaced = [];
  let first = null;
  for (const violation of error.problem?.errors || []) {
    const id = pointers[violation.pointer];
    const input = id ? document.getElementById(id) : $(`[data-pointer="${CSS.escape(violation.pointer)}"]`, form);
    if (!input) {
      unplaced.push(violation.pointer ? `${violation.pointer}: ${violation.detail}` : violation.detail);
      continue;
    }
    const message = document.createElement("p");
    message.className = "field-error";
    message.id = `${input.id}-error`;
    message.textContent = violation.detail;
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", message.id);
    (input.closest(".field") || input.parentElement).append(message);
    first ??= input;
  }
  if (first) {
    first.focus();
    tell(unplaced.length ? `Please check the marked fields. ${unplaced.join(" ")}` : "Please check the marked fields.");
  } else {
    tell(unplaced.length ? `${describe(error)} ${unplaced.join(" ")}` : describe(error));
  }
}

// ---- the profile fields, shared by sign-up and editing ---------------------

function buildProfileFields(fieldset) {
  const prefix = fieldset.dataset.prefix;
  const copy = $("#profile-template").content.cloneNode(true);
  for (const element of $$("[id]", copy)) element.id = element.id.replace(/^P-/, `${prefix}-`);
  for (const label of $$("label[for]", copy)) label.htmlFor = label.htmlFor.replace(/^P-/, `${prefix}-`);
  fieldset.append(copy);
  $(".add-phone", fieldset).addEventListener("click", () => {
    $("input", addPhone(fieldset, "")).focus();
  });
}

function addPhone(fieldset, value) {
  const list = $(".phone-list", fieldset);
  const item = $("#phone-template").content.firstElementChild.cloneNode(true);
  $("input", item).value = value;
  $(".remove-phone", item).addEventListener("click", () => {
    item.remove();
    numberPhones(fieldset);
  });
  list.append(item);
  numberPhones(fieldset);
  return item;
}

function numberPhones(fieldset) {
  $$(".phone-list li", fieldset).forEach((item, index) => {
    const input = $("input", item);
    input.id = `${fieldset.dataset.prefix}-phone-${index}`;
    input.dataset.pointer = `/phoneNumbers/${index}`;
    $("label", item).htmlFor = input.id;
    $(".n", item).textContent = String(index + 1);
    $(".remove-phone", item).setAttribute("aria-label", `Remove phone number ${index + 1}`);
  });
}

/** The number typed, or the text itself when it is not one (the API then says why). */
function numberOrText(text) {
  const trimmed = text.trim();
  return /^-?\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : trimmed;
}

function readProfile(fieldset) {
  const value = (name) => $(`[name="${name}"]`, fieldset).value.trim();
  return {
    firstName: value("firstName"),
    lastName: value("lastName"),
    address: {
      streetAddress: value("streetAddress"),
      city: value("city"),
      state: value("state"),
      postalCode: numberOrText(value("postalCode")),
    },
    phoneNumbers: $$(".phone-list input", fieldset).map((input) => input.value.trim()).filter(Boolean),
  };
}

function fillProfile(fieldset, user) {
  const set = (name, value) => { $(`[name="${name}"]`, fieldset).value = value ?? ""; };
  set("firstName", user.firstName);
  set("lastName", user.lastName);
  set("streetAddress", user.address?.streetAddress);
  set("city", user.address?.city);
  set("state", user.address?.state);
  set("postalCode", user.address?.postalCode);
  $(".phone-list", fieldset).replaceChildren();
  for (const number of user.phoneNumbers || []) addPhone(fieldset, number);
}

// ---- who is logged in -------------------------------------------------------

/** The logged-in user ({id, name}) or null. */
let me = null;

async function loadSession() {
  try {
    const session = (await api("GET", "/auth/session")).data;
    const user = (await api("GET", `/users/${session.userId}`, { fresh: true })).data;
    me = { id: session.userId, name: `${user.firstName} ${user.lastName}` };
  } catch (error) {
    me = null;
    if (error.status !== 401 && error.status !== 404) tell(describe(error));
  }
  for (const element of $$("[data-when=in]")) element.hidden = !me;
  $("#who").textContent = me ? `Logged in as ${me.name}` : "";
}

// ---- pages ------------------------------------------------------------------

function showView(name, title) {
  for (const view of $$("[data-view]")) view.hidden = view.id !== `view-${name}`;
  document.title = title ? `${title} · millions` : "millions";
}

function go(path) {
  history.pushState(null, "", path);
  route();
}

async function route() {
  const path = location.pathname;
  if (path === "/") {
    if (me) return replace("/me");
    return showView("welcome", "Welcome");
  }
  if (path === "/me" || path === "/studio") {
    if (!me) {
      tell("Log in first to see that page.", "info");
      history.replaceState(null, "", "/");
      return showView("welcome", "Welcome");
    }
    if (path === "/me") return showMe();
    return showView("studio", "Photo studio");
  }
  const profile = path.match(/^\/u\/([^/]+)$/);
  if (profile) return showUser(decodeURIComponent(profile[1]));
  showView("missing", "Not found");
}

function replace(path) {
  history.replaceState(null, "", path);
  return route();
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-link]");
  if (!link || event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  quiet();
  go(link.getAttribute("href"));
});
window.addEventListener("popstate", route);

// ---- signing up, logging in and out ------------------------------------------

async function submitting(form, work) {
  const button = $("button:not([type=button])", form);
  button.disabled = true;
  try {
    await work();
  } finally {
    button.disabled = false;
  }
}

$("#signup").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  submitting(form, async () => {
    try {
      await api("POST", "/auth/signup", {
        body: { email: field(form, "email").value.trim(), password: field(form, "password").value, ...readProfile($(".profile-fields", form)) },
      });
      clearErrors(form);
      form.reset();
      await signedIn("Welcome! Your account is ready.");
    } catch (error) {
      showError(form, error);
    }
  });
});

$("#login").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  submitting(form, async () => {
    try {
      await api("POST", "/auth/login", { body: { email: field(form, "email").value.trim(), password: field(form, "password").value } });
      clearErrors(form);
      form.reset();
      await signedIn("You are logged in.");
    } catch (error) {
      showError(form, error);
    }
  });
});

async function signedIn(message) {
  await loadSession();
  go("/me");
  tell(message, "info");
}

$("#logout").addEventListener("click", async () => {
  try {
    await api("POST", "/auth/logout");
  } catch (error) {
    if (error.status !== 401) return tell(describe(error));
  }
  await loadSession();
  go("/");
  tell("You are logged out.", "info");
});

// ---- my profile: edit with If-Match, delete ------------------------------------

/** The ETag of the version the edit form shows. */
let editedVersion = null;

async function showMe() {
  showView("me", "My profile");
  $("#my-link").href = `/u/${me.id}`;
  $("#my-link").textContent = `${location.origin}/u/${me.id}`;
  $("#conflict").hidden = true;
  await loadMine();
}

async function loadMine() {
  try {
    const answer = await api("GET", `/users/${me.id}`, { fresh: true });
    editedVersion = answer.headers.get("etag");
    fillProfile($("#edit .profile-fields"), answer.data);
    clearErrors($("#edit"));
  } catch (error) {
    tell(describe(error));
  }
}

$("#edit").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  submitting(form, async () => {
    try {
      const answer = await api("PUT", `/users/${me.id}`, {
        body: readProfile($(".profile-fields", form)),
        headers: editedVersion ? { "if-match": editedVersion } : {},
      });
      editedVersion = answer.headers.get("etag");
      clearErrors(form);
      $("#conflict").hidden = true;
      me.name = `${answer.data.firstName} ${answer.data.lastName}`;
      $("#who").textContent = `Logged in as ${me.name}`;
      tell("Your profile is saved.", "info");
    } catch (error) {
      if (error.status === 412) {
        $("#conflict").hidden = false;
        tell("This profile was changed elsewhere. Load the newer version, then make your edits again.");
        $("#load-newer").focus();
        return;
      }
      showError(form, error);
    }
  });
});

$("#load-newer").addEventListener("click", async () => {
  await loadMine();
  $("#conflict").hidden = true;
  tell("The newer version is loaded.", "info");
});

$("#delete").addEventListener("click", () => {
  $("#delete-confirm").hidden = false;
  $("#delete-confirm").focus();
});

$("#delete-confirm").addEventListener("click", async () => {
  try {
    await api("DELETE", `/users/${me.id}`, { headers: editedVersion ? { "if-match": editedVersion } : {} });
  } catch (error) {
    return tell(error.status === 412 ? "The profile changed since it was loaded; reload the page and try again." : describe(error));
  }
  $("#delete-confirm").hidden = true;
  // The account is gone; so is this browser's session.
  await api("POST", "/auth/logout").catch(() => {});
  await loadSession();
  go("/");
  tell("Your account is deleted.", "info");
});

// ---- someone's public profile ----------------------------------------------------

async function showUser(id) {
  showView("user", "Profile");
  const details = $("#user-details");
  details.replaceChildren();
  $("#user-name").textContent = "Profile";
  try {
    const user = (await api("GET", `/users/${encodeURIComponent(id)}`)).data;
    $("#user-name").textContent = `${user.firstName} ${user.lastName}`;
    document.title = `${user.firstName} ${user.lastName} · millions`;
    const rows = [
      ["User id", String(user.id)],
      ["Address", `${user.address.streetAddress}, ${user.address.city}, ${user.address.state} ${user.address.postalCode}`],
      ["Phone numbers", user.phoneNumbers.length ? user.phoneNumbers.join(", ") : "none"],
    ];
    for (const [term, value] of rows) {
      const dt = document.createElement("dt");
      dt.textContent = term;
      const dd = document.createElement("dd");
      dd.textContent = value;
      details.append(dt, dd);
    }
    $("#user-likes").textContent = String((await api("GET", `/users/${user.id}/likes`)).data.likes);
  } catch (error) {
    $("#user-name").textContent = error.status === 404 ? "No such user" : "Profile";
    tell(error.status === 404 ? `There is no user ${id}.` : describe(error));
  }
}

$("#open-profile").addEventListener("submit", (event) => {
  event.preventDefault();
  const id = field(event.currentTarget, "userId").value.trim();
  if (!/^\d+$/.test(id)) {
    return showError(event.currentTarget, new ApiError(400, { errors: [{ pointer: "/id", detail: "A user id is a whole number." }] }));
  }
  clearErrors(event.currentTarget);
  quiet();
  go(`/u/${id}`);
});

// ---- the photo studio ---------------------------------------------------------

const studio = { photoId: null, file: null, natural: null, jobsUrl: null };

$("#photo-file").addEventListener("change", (event) => {
  const file = event.currentTarget.files[0];
  studio.file = file || null;
  studio.photoId = null;
  $("#job").hidden = true;
  $("#job-box").hidden = true;
  $("#upload-progress").value = 0;
  if (!file) return;
  const image = $("#original");
  URL.revokeObjectURL(image.src);
  image.src = URL.createObjectURL(file);
  image.onload = () => {
    studio.natural = { width: image.naturalWidth, height: image.naturalHeight };
    $("#crop-width").value = image.naturalWidth;
    $("#crop-height").value = image.naturalHeight;
  };
  $("#original-box").hidden = false;
});

/** PUTs the file to the signed slot, reporting progress (fetch cannot). */
function putFile(slot, file) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open(slot.method || "PUT", slot.url);
    for (const [name, value] of slot.headers) {
      // The browser sets these itself and refuses them from a script.
      if (!["content-length", "host"].includes(name.toLowerCase())) request.setRequestHeader(name, value);
    }
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) $("#upload-progress").value = Math.round((100 * event.loaded) / event.total);
    };
    request.onload = () => (request.status < 300 ? resolve() : reject(new ApiError(request.status, parse(request.responseText))));
    request.onerror = () => reject(new ApiError(0, { detail: "The upload could not reach the storage. Check your connection and try again." }));
    request.send(file);
  });
}

function parse(text) {
  try { return JSON.parse(text); } catch { return { detail: text }; }
}

$("#upload").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  if (!studio.file) {
    return showError(form, new ApiError(400, { errors: [{ pointer: "/bytes", detail: "Choose a photo first." }] }));
  }
  submitting(form, async () => {
    try {
      say("Uploading…");
      const answer = (await api("POST", "/photos", { body: { contentType: studio.file.type, bytes: studio.file.size } })).data;
      await putFile(answer.upload, studio.file);
      studio.photoId = answer.photoId;
      studio.jobsUrl = answer.jobsUrl;
      clearErrors(form);
      $("#upload-progress").value = 100;
      $("#job").hidden = false;
      say("Uploaded. Choose the operations.");
      tell("The photo is uploaded. Choose what to do with it.", "info");
    } catch (error) {
      say("");
      showError(form, error, { "/contentType": "photo-file" });
    }
  });
});

// Drag across the original to choose a crop; the numbers stay editable (and
// are the keyboard's way to do the same).
{
  const stage = $("#original-box .stage");
  const box = $("#selection");
  let start = null;
  const point = (event) => {
    const area = $("#original").getBoundingClientRect();
    return {
      x: Math.min(Math.max(event.clientX - area.left, 0), area.width),
      y: Math.min(Math.max(event.clientY - area.top, 0), area.height),
      scale: studio.natural ? studio.natural.width / area.width : 1,
    };
  };
  stage.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    start = point(event);
    stage.setPointerCapture(event.pointerId);
  });
  stage.addEventListener("pointermove", (event) => {
    if (!start) return;
    const now = point(event);
    const left = Math.min(start.x, now.x);
    const top = Math.min(start.y, now.y);
    Object.assign(box.style, { left: `${left}px`, top: `${top}px`, width: `${Math.abs(now.x - start.x)}px`, height: `${Math.abs(now.y - start.y)}px` });
    box.hidden = false;
    const s = now.scale;
    $("#crop-x").value = Math.round(left * s);
    $("#crop-y").value = Math.round(top * s);
    $("#crop-width").value = Math.max(1, Math.round(Math.abs(now.x - start.x) * s));
    $("#crop-height").value = Math.max(1, Math.round(Math.abs(now.y - start.y) * s));
    $("#job [name=crop]").checked = true;
  });
  stage.addEventListener("pointerup", () => { start = null; });
}

/** The job the form describes, and where each of its values sits in the form. */
function readJob(form) {
  const operations = [];
  const pointers = {};
  const number = (id) => {
    const text = document.getElementById(id).value.trim();
    return text === "" ? undefined : numberOrText(text);
  };
  const steps = {
    crop: ["x", "y", "width", "height"],
    resize: ["width", "height", "fit"],
    thumbnail: ["size"],
    sharpen: ["sigma", "amount"],
    blur: ["sigma"],
  };
  for (const [op, fields] of Object.entries(steps)) {
    if (!field(form, op).checked) continue;
    const index = operations.length;
    const step = { op };
    pointers[`/operations/${index}`] = `${op}-${fields[0]}`;
    for (const field of fields) {
      const id = `${op}-${field}`;
      const value = field === "fit" ? document.getElementById(id).value : number(id);
      if (value !== undefined) step[field] = value;
      pointers[`/operations/${index}/${field}`] = id;
    }
    operations.push(step);
  }
  pointers["/format"] = "job-format";
  pointers["/quality"] = "job-quality";
  pointers["/operations"] = "crop-x";
  return { job: { operations, format: field(form, "format").value, quality: number("job-quality") }, pointers };
}

$("#job").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const { job, pointers } = readJob(form);
  submitting(form, async () => {
    try {
      const answer = await api("POST", studio.jobsUrl, { body: job });
      clearErrors(form);
      quiet();
      await follow(answer.data.statusUrl, answer.data.jobId);
    } catch (error) {
      showError(form, error, pointers);
    }
  });
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls a job until it is done or failed, showing each status. */
async function follow(statusUrl, jobId) {
  $("#job-box").hidden = false;
  $("#job-id").textContent = jobId;
  $("#outputs").replaceChildren();
  const status = $("#job-status");
  for (let wait = 300; ; wait = Math.min(wait * 1.5, 2000)) {
    let job;
    try {
      job = (await api("GET", statusUrl)).data;
    } catch (error) {
      status.textContent = "unknown";
      return tell(describe(error));
    }
    status.textContent = job.status;
    say(`Job ${jobId}: ${job.status}`);
    if (job.status === "done") return showOutputs(job.outputs);
    if (job.status === "failed") return tell(`The job failed: ${job.reason || "no reason was given"}.`);
    await sleep(wait);
  }
}

function showOutputs(outputs) {
  const list = $("#outputs");
  for (const output of outputs) {
    const figure = document.createElement("figure");
    const image = document.createElement("img");
    image.src = output.url;
    image.alt = `The ${output.role} image, ${output.width} by ${output.height} pixels`;
    const caption = document.createElement("figcaption");
    const link = document.createElement("a");
    link.href = output.url;
    link.textContent = `${output.role}: ${output.width}×${output.height}, ${Math.round(output.bytes / 1024)} KiB`;
    caption.append(link);
    figure.append(image, caption);
    list.append(figure);
  }
  tell("The job is done. The results are below.", "info");
}

// ---- start ------------------------------------------------------------------------

for (const fieldset of $$(".profile-fields")) buildProfileFields(fieldset);
addPhone($("#signup .profile-fields"), "");
await loadSession();
await route();
document.body.dataset.ready = "true";

// The web client: plain fetch calls to the JSON API, with the session in the
// HttpOnly cookie the API sets (same origin, so no token handling here).
const output = document.querySelector("#output");

function show(value) {
  output.textContent = typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

async function send(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
    credentials: "same-origin",
  });
  const text = await response.text();
  const parsed = text ? JSON.parse(text) : {};
  if (!response.ok) throw parsed;
  return parsed;
}

function fields(form) {
  return Object.fromEntries(new FormData(form).entries());
}

document.querySelector("#signup").addEventListener("submit", async (event) => {
  event.preventDefault();
  const f = fields(event.target);
  try {
    const answer = await send("POST", "/auth/signup", {
      email: f.email, password: f.password, firstName: f.firstName, lastName: f.lastName,
      address: { streetAddress: f.streetAddress, city: f.city, state: f.state, postalCode: Number(f.postalCode) },
      phoneNumbers: [],
    });
    show(answer.user);
  } catch (problem) { show(problem); }
});

document.querySelector("#login").addEventListener("submit", async (event) => {
  event.preventDefault();
  try { show(await send("POST", "/auth/login", fields(event.target))); } catch (problem) { show(problem); }
});

document.querySelector("#lookup").addEventListener("submit", async (event) => {
  event.preventDefault();
  try { show(await send("GET", `/users/${fields(event.target).id}`)); } catch (problem) { show(problem); }
});

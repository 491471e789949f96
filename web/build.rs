//! Embeds the web app (`app/`) into every binary that serves it.
//!
//! Scripts and styles are renamed with a hash of their content
//! (`app.<hash>.js`), so they can be cached for a year; `index.html` names
//! them through `{{app.js}}`-style placeholders, filled in here, and is
//! revalidated on every use. Everything else keeps its name. The result is a
//! table of `(path, content type, body)` compiled into the binary or wasm
//! module, so the edge serves the app without a bucket or a KV store.

#[path = "src/fingerprint.rs"]
mod fingerprint;

use fingerprint::fingerprint;
use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("app");
    println!("cargo:rerun-if-changed={}", web.display());
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let out = Path::new(&out);

    let mut names: Vec<String> = std::fs::read_dir(&web)
        .expect("the app/ folder exists")
        .map(|entry| {
            entry
                .expect("readable")
                .file_name()
                .into_string()
                .expect("UTF-8 names")
        })
        .collect();
    names.sort();

    let mut hashed = Vec::new(); // (original name, served path)
    let mut table = String::from("pub static ASSETS: &[Asset] = &[\n");
    for name in names.iter().filter(|name| is_bundled(name)) {
        let body = std::fs::read(web.join(name)).expect("readable");
        let hash = fingerprint(&body);
        let (stem, extension) = name
            .rsplit_once('.')
            .expect("bundled files have extensions");
        let file = format!("{stem}.{hash}.{extension}");
        std::fs::write(out.join(&file), &body).expect("OUT_DIR is writable");
        hashed.push((name.clone(), format!("/assets/{file}")));
        entry(
            &mut table,
            &format!("/assets/{file}"),
            &file,
            extension,
            &hash,
        );
    }
    for name in names.iter().filter(|name| !is_bundled(name)) {
        let mut body = std::fs::read_to_string(web.join(name)).expect("UTF-8 text");
        for (original, served) in &hashed {
            body = body.replace(&format!("{{{{{original}}}}}"), served);
        }
        let hash = fingerprint(body.as_bytes());
        std::fs::write(out.join(name), &body).expect("OUT_DIR is writable");
        let extension = name.rsplit_once('.').map_or("", |(_, e)| e);
        entry(&mut table, &format!("/{name}"), name, extension, &hash);
    }
    table.push_str("];\n");
    std::fs::write(out.join("assets.rs"), table).expect("OUT_DIR is writable");
}

/// Scripts and styles get content-hashed names; pages keep theirs.
fn is_bundled(name: &str) -> bool {
    name.ends_with(".js") || name.ends_with(".css")
}

fn entry(table: &mut String, path: &str, file: &str, extension: &str, hash: &str) {
    let content_type = match extension {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "txt" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        _ => "application/octet-stream",
    };
    writeln!(
        table,
        "    Asset {{ path: {path:?}, content_type: {content_type:?}, etag: \"\\\"{hash}\\\"\", \
         body: include_bytes!(concat!(env!(\"OUT_DIR\"), \"/{file}\")) }},"
    )
    .expect("writing to a String");
}

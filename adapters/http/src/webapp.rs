//! The web app (`web/`: `index.html`, `app.css` and the ES modules), compiled into the binary
//! and served from one table, [`FILES`]: a new file is one line there. Each answer carries
//! an `ETag` (a hash of its bytes, computed once) and `Cache-Control: no-cache`: a browser
//! keeps the file and revalidates it, and an unchanged file costs a 304 with no body.

use std::sync::LazyLock;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::routes::ops;

const HTML: &str = "text/html; charset=utf-8";
const SCRIPT: &str = "text/javascript; charset=utf-8";
const STYLE: &str = "text/css; charset=utf-8";

/// The file `web/<name>`, served at `/<name>`: `(path, content type, bytes)`.
macro_rules! web_file {
    ($name:literal, $content_type:expr) => {
        (
            concat!("/", $name),
            $content_type,
            include_bytes!(concat!("../../../web/", $name)),
        )
    };
}

/// Every file of the app: the path it is served at, its content type, its bytes. The page
/// loads `app.js`, the entry module, which imports the others.
const FILES: &[(&str, &str, &[u8])] = &[
    ("/", HTML, include_bytes!("../../../web/index.html")),
    web_file!("app.css", STYLE),
    web_file!("app.js", SCRIPT),
    web_file!("api.js", SCRIPT),
    web_file!("session.js", SCRIPT),
    web_file!("dom.js", SCRIPT),
    web_file!("forms.js", SCRIPT),
    web_file!("nav.js", SCRIPT),
    web_file!("signin.js", SCRIPT),
    web_file!("signup.js", SCRIPT),
    web_file!("tasks.js", SCRIPT),
    web_file!("account.js", SCRIPT),
    web_file!("account-email.js", SCRIPT),
    web_file!("forgot.js", SCRIPT),
    web_file!("reset.js", SCRIPT),
    web_file!("verify.js", SCRIPT),
    web_file!("me.js", SCRIPT),
    web_file!("unverified.js", SCRIPT),
    web_file!("time.js", SCRIPT),
    web_file!("useragent.js", SCRIPT),
    // UAParser.js 1.0.41 (MIT; 2.x is AGPL), from `npm pack ua-parser-js@1`, unchanged.
    web_file!("vendor/ua-parser.min.js", SCRIPT),
];

/// One file of the app, with its tag.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
    etag: String,
}

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|&(path, content_type, body)| Asset {
            path,
            content_type,
            body,
            etag: format!("\"{:016x}\"", fnv1a(body)),
        })
        .collect()
});

/// FNV-1a, 64 bits: enough to tell two versions of a file apart.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A GET route for every file of the app; any other method on its paths is a 405.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let assets: &'static [Asset] = &ASSETS;
    for asset in assets {
        cfg.service(
            web::resource(asset.path)
                .route(web::get().to(move |req: HttpRequest| async move { serve(&req, asset) }))
                .default_service(web::to(ops::only_get)),
        );
    }
}

fn serve(req: &HttpRequest, asset: &Asset) -> HttpResponse {
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == asset.etag));
    let mut response = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    // The 304 carries the Content-Type too: the security headers (the page's CSP among
    // them) are chosen by it, and a browser takes a 304's policy for its cached copy.
    response
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-cache")))
        .insert_header((header::ETAG, asset.etag.as_str()))
        .insert_header((header::CONTENT_TYPE, asset.content_type));
    if fresh {
        response.finish()
    } else {
        response.body(asset.body)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use actix_web::dev::{Service, ServiceResponse};
    use actix_web::{App, middleware::from_fn, test};

    use super::*;
    use crate::middleware::{PAGE_POLICY, security_headers};

    fn text(response: &ServiceResponse, name: header::HeaderName) -> &str {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    async fn app()
    -> impl Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error> {
        test::init_service(App::new().wrap(from_fn(security_headers)).configure(routes)).await
    }

    #[actix_web::test]
    async fn assets_carry_an_etag_and_answer_304_when_unchanged() {
        let app = app().await;
        let first =
            test::call_service(&app, test::TestRequest::get().uri("/app.js").to_request()).await;
        assert_eq!(first.status(), 200);
        let etag = text(&first, header::ETAG).to_owned();
        assert!(etag.starts_with('"') && etag.len() == 18, "{etag}");
        let again = test::TestRequest::get()
            .uri("/app.js")
            .insert_header((header::IF_NONE_MATCH, etag.as_str()))
            .to_request();
        let again = test::call_service(&app, again).await;
        assert_eq!(again.status(), 304);
        let page = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
        assert_eq!(
            text(&page, header::CONTENT_TYPE),
            "text/html; charset=utf-8"
        );
        let body = test::read_body(page).await;
        let html = String::from_utf8_lossy(&body);
        assert!(html.contains(r#"<script type="module" src="/app.js">"#));
        // No inline script: every <script> has a src.
        for tag in html.split("<script").skip(1) {
            assert!(
                tag.split('>').next().unwrap_or_default().contains("src="),
                "{tag}"
            );
        }
    }

    #[actix_web::test]
    async fn every_file_answers_with_its_type_a_tag_no_cache_and_405_to_other_methods() {
        let app = app().await;
        for &(path, content_type, body) in FILES {
            let response =
                test::call_service(&app, test::TestRequest::get().uri(path).to_request()).await;
            assert_eq!(response.status(), 200, "{path}");
            assert_eq!(
                text(&response, header::CONTENT_TYPE),
                content_type,
                "{path}"
            );
            assert_eq!(text(&response, header::CACHE_CONTROL), "no-cache", "{path}");
            let etag = text(&response, header::ETAG).to_owned();
            assert_eq!(etag, format!("\"{:016x}\"", fnv1a(body)), "{path}");
            assert_eq!(test::read_body(response).await, body, "{path}");

            // The 304 carries the type, and so the same policy as the 200.
            let cached = test::TestRequest::get()
                .uri(path)
                .insert_header((header::IF_NONE_MATCH, format!("\"0\", {etag}")))
                .to_request();
            let cached = test::call_service(&app, cached).await;
            assert_eq!(cached.status(), 304, "{path}");
            assert_eq!(text(&cached, header::CONTENT_TYPE), content_type, "{path}");
            if content_type == HTML {
                assert_eq!(
                    text(&cached, header::CONTENT_SECURITY_POLICY),
                    PAGE_POLICY,
                    "{path}"
                );
            }
            assert!(test::read_body(cached).await.is_empty(), "{path}");

            let post =
                test::call_service(&app, test::TestRequest::post().uri(path).to_request()).await;
            assert_eq!(post.status(), 405, "{path}");
        }
    }

    /// The paths a file loads: `src="/…"` and `href="/…"` in the page, `from "./…"` in
    /// a module.
    fn references(path: &str, body: &[u8]) -> Vec<String> {
        let text = String::from_utf8_lossy(body);
        let marker = if path == "/" { "=\"/" } else { "from \"./" };
        text.split(marker)
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .map(|name| format!("/{name}"))
            .collect()
    }

    #[actix_web::test]
    async fn every_file_the_page_or_a_module_loads_is_in_the_table_and_every_module_is_loaded() {
        let served: BTreeSet<&str> = FILES.iter().map(|&(path, ..)| path).collect();
        let mut loaded = BTreeSet::new();
        for &(path, _, body) in FILES {
            for reference in references(path, body) {
                assert!(
                    served.contains(reference.as_str()),
                    "{path} loads {reference}, which is not in FILES"
                );
                loaded.insert(reference);
            }
        }
        for &(path, content_type, _) in FILES {
            if content_type == SCRIPT {
                assert!(
                    loaded.contains(path),
                    "{path} is served but nothing loads it"
                );
            }
        }
    }
}

//! The web app (`web/`: `index.html`, `app.js`, `app.css`), compiled into the binary and
//! served at `/`, `/app.js` and `/app.css`. Each answer carries an `ETag` (a hash of its
//! bytes) and `Cache-Control: no-cache`: a browser keeps the file and revalidates it, and
//! an unchanged file costs a 304 with no body.

use std::sync::LazyLock;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};

/// One file of the app.
struct Asset {
    content_type: &'static str,
    body: &'static [u8],
    etag: String,
}

impl Asset {
    fn new(content_type: &'static str, body: &'static [u8]) -> Self {
        Self {
            content_type,
            body,
            etag: format!("\"{:016x}\"", fnv1a(body)),
        }
    }
}

/// FNV-1a, 64 bits: enough to tell two versions of a file apart.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

static PAGE: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "text/html; charset=utf-8",
        include_bytes!("../../../web/index.html"),
    )
});
static SCRIPT: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "text/javascript; charset=utf-8",
        include_bytes!("../../../web/app.js"),
    )
});
static STYLE: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "text/css; charset=utf-8",
        include_bytes!("../../../web/app.css"),
    )
});

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

/// `GET /`: the app's page.
pub async fn page(req: HttpRequest) -> HttpResponse {
    serve(&req, &PAGE)
}

/// `GET /app.js`: the app's script (an ES module).
pub async fn script(req: HttpRequest) -> HttpResponse {
    serve(&req, &SCRIPT)
}

/// `GET /app.css`: the app's style sheet.
pub async fn style(req: HttpRequest) -> HttpResponse {
    serve(&req, &STYLE)
}

#[cfg(test)]
mod tests {
    use actix_web::{App, test, web};

    use super::*;

    #[actix_web::test]
    async fn assets_carry_an_etag_and_answer_304_when_unchanged() {
        let app = test::init_service(
            App::new()
                .route("/", web::get().to(page))
                .route("/app.js", web::get().to(script)),
        )
        .await;
        let first =
            test::call_service(&app, test::TestRequest::get().uri("/app.js").to_request()).await;
        assert_eq!(first.status(), 200);
        let etag = first
            .headers()
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(etag.starts_with('"') && etag.len() == 18, "{etag}");
        let again = test::TestRequest::get()
            .uri("/app.js")
            .insert_header((header::IF_NONE_MATCH, etag.as_str()))
            .to_request();
        let again = test::call_service(&app, again).await;
        assert_eq!(again.status(), 304);
        let page = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
        let kind = page
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        assert_eq!(kind, Some("text/html; charset=utf-8"));
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
}

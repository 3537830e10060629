//! The page and its assets, embedded in the binary: nothing is fetched from the network, and
//! no front-end build step runs. The same page is served (scripts by URL) or written as one
//! file (`--html`, scripts and data inline).

use serde_json::Value;

const INDEX: &str = include_str!("../../assets/dashboard/index.html");
const APP_JS: &str = include_str!("../../assets/dashboard/app.js");
const APP_CSS: &str = include_str!("../../assets/dashboard/app.css");
/// ECharts 6.1.0 (Apache-2.0), `dist/echarts.min.js` from the npm package.
const ECHARTS: &str = include_str!("../../assets/vendor/echarts-6.1.0.min.js");

/// Where the template takes the styles and the scripts.
const STYLE_MARK: &str = "<!--style-->";
const SCRIPTS_MARK: &str = "<!--scripts-->";

/// An embedded asset by file name: its content type and body.
pub fn asset(file: &str) -> Option<(&'static str, &'static str)> {
    match file {
        "app.js" => Some(("text/javascript; charset=utf-8", APP_JS)),
        "app.css" => Some(("text/css; charset=utf-8", APP_CSS)),
        "echarts.min.js" => Some(("text/javascript; charset=utf-8", ECHARTS)),
        _ => None,
    }
}

/// The page as the server sends it: assets by URL, data from the API.
pub fn served() -> String {
    INDEX
        .replace(
            STYLE_MARK,
            r#"<link rel="stylesheet" href="/assets/app.css">"#,
        )
        .replace(
            SCRIPTS_MARK,
            r#"<script src="/assets/echarts.min.js"></script>
<script src="/assets/app.js"></script>"#,
        )
}

/// The page as one file: styles, scripts and `data` inline, so it opens from disk.
pub fn standalone(data: &Value) -> String {
    let scripts = format!(
        "<script>{}</script>\n<script>window.CCUSAGE_DASHBOARD_DATA = {};</script>\n<script>{}</script>",
        inline_script(ECHARTS),
        inline_data(data),
        inline_script(APP_JS),
    );
    INDEX
        .replace(STYLE_MARK, &format!("<style>{APP_CSS}</style>"))
        .replace(SCRIPTS_MARK, &scripts)
}

/// JSON that is safe inside a `<script>` element whatever its strings hold: every `<` is
/// written `\u003c`, so neither `</script>` nor `<!--<script>` (which would make the
/// parser run past the element's end) can appear. In JSON a `<` is only ever inside a string.
fn inline_data(data: &Value) -> String {
    data.to_string().replace('<', "\\u003c")
}

/// Text that is safe inside a `<script>` element: `</` cannot end it early. In JSON and in
/// JavaScript strings `<\/` means the same as `</`.
fn inline_script(text: &str) -> String {
    text.replace("</", "<\\/")
}

/// A small page for a bad filter in the address bar.
pub fn bad_request(message: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Bad filter</title>\
         <body><h1>Bad filter</h1><p id=\"error\" data-error=\"bad_parameter\">{}</p>\
         <p><a href=\"/\">Open the dashboard without a filter</a></p></body></html>\n",
        escape_html(message)
    )
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_served_page_loads_only_its_own_assets() {
        let page = served();
        assert!(!page.contains(STYLE_MARK) && !page.contains(SCRIPTS_MARK));
        for src in [
            "/assets/app.css",
            "/assets/echarts.min.js",
            "/assets/app.js",
        ] {
            assert!(page.contains(src), "{src}");
            let file = src.trim_start_matches("/assets/");
            assert!(asset(file).is_some(), "{file}");
        }
        // Nothing from another origin: the page works offline.
        for page_or_asset in [page.as_str(), APP_JS, APP_CSS] {
            assert!(!page_or_asset.contains("http://"), "a URL in the page");
            assert!(!page_or_asset.contains("https://"), "a URL in the page");
        }
        assert!(asset("../Cargo.toml").is_none());
    }

    #[test]
    fn the_standalone_page_holds_its_data_and_cannot_be_broken_by_it() {
        let data = serde_json::json!({"panels": {"x": {"rows": [["</script><script>alert(1)"]]}}});
        let page = standalone(&data);
        assert!(!page.contains("</script><script>alert(1)"));
        assert!(page.contains("\\u003c/script>\\u003cscript>alert(1)"));
        assert!(page.contains("window.CCUSAGE_DASHBOARD_DATA = {"));
        assert!(!page.contains("src=\"/assets/"));
        // Only the three elements close: the data cannot end one early.
        assert_eq!(page.matches("</script>").count(), 3);
        // An HTML comment opener in a machine name would make the parser skip the real end.
        let data = serde_json::json!({"machine": "<!--<script>", "rows": [["a<b"]]});
        let page = standalone(&data);
        assert!(
            !page.contains("<!--") && !page.contains("<script>\""),
            "{page:.0}"
        );
        let embedded = page
            .split("window.CCUSAGE_DASHBOARD_DATA = ")
            .nth(1)
            .and_then(|rest| rest.split(";</script>").next())
            .unwrap();
        let back: Value = serde_json::from_str(embedded).unwrap();
        assert_eq!(back, data, "the data reads back the same");
    }

    #[test]
    fn a_bad_filter_page_escapes_the_message() {
        let page = bad_request("bad parameter since: \"<b>\" is not a day");
        assert!(page.contains("&quot;&lt;b&gt;&quot;"));
    }
}

//! The words of each mail: one text and one HTML template per kind (the HTML inside a
//! shared layout), in `templates/`, filled by `{{name}}`.

use std::borrow::Cow;

use chrono::{DateTime, Duration, Utc};
use tessera_domain::MailKind;

/// The product's name, as every mail signs it.
pub(crate) const PRODUCT: &str = "Tessera";

const LAYOUT: &str = include_str!("../templates/layout.html");

/// The text and HTML templates of a kind.
fn templates(kind: MailKind) -> (&'static str, &'static str) {
    match kind {
        MailKind::VerifyEmail => (
            include_str!("../templates/verify_email.txt"),
            include_str!("../templates/verify_email.html"),
        ),
        MailKind::ResetPassword => (
            include_str!("../templates/reset_password.txt"),
            include_str!("../templates/reset_password.html"),
        ),
        MailKind::ConfirmEmailChange => (
            include_str!("../templates/confirm_email_change.txt"),
            include_str!("../templates/confirm_email_change.html"),
        ),
        MailKind::EmailChanged => (
            include_str!("../templates/email_changed.txt"),
            include_str!("../templates/email_changed.html"),
        ),
        MailKind::PasswordChanged => (
            include_str!("../templates/password_changed.txt"),
            include_str!("../templates/password_changed.html"),
        ),
        MailKind::MfaDisabled => (
            include_str!("../templates/mfa_disabled.txt"),
            include_str!("../templates/mfa_disabled.html"),
        ),
        MailKind::PasskeyAdded => (
            include_str!("../templates/passkey_added.txt"),
            include_str!("../templates/passkey_added.html"),
        ),
    }
}

/// A mail's two bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bodies {
    pub(crate) text: String,
    pub(crate) html: String,
}

/// A value put into a template: text (escaped in HTML), or markup already made.
#[derive(Debug, Clone, Copy)]
enum Value<'a> {
    Text(&'a str),
    Markup(&'a str),
}

/// What a mail says: its kind, the link it carries (with how long it works) for the kinds
/// with one, and when the change it reports was made.
pub(crate) fn render(kind: MailKind, link: Option<(&str, Duration)>, at: DateTime<Utc>) -> Bodies {
    let lifetime = link
        .map(|(_, lifetime)| in_words(lifetime))
        .unwrap_or_default();
    let when = at.format("%A %-d %B %Y at %H:%M UTC").to_string();
    let vars = [
        ("product", Value::Text(PRODUCT)),
        ("subject", Value::Text(kind.subject())),
        ("link", Value::Text(link.map_or("", |(link, _)| link))),
        ("lifetime", Value::Text(&lifetime)),
        ("when", Value::Text(&when)),
    ];
    let (text, html) = templates(kind);
    let body = fill(html, &vars, Part::Html);
    let mut page = Vec::from(vars);
    page.push(("body", Value::Markup(&body)));
    Bodies {
        text: fill(text, &vars, Part::Text),
        html: fill(LAYOUT, &page, Part::Html),
    }
}

/// Which part a template is for: HTML escapes text values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Text,
    Html,
}

/// Replaces each `{{name}}` of `template` with its value. A name with no value is left as
/// written (a test holds every template to known names).
fn fill(template: &str, vars: &[(&str, Value<'_>)], part: Part) -> String {
    let mut out = String::with_capacity(template.len() + 256);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = after[..end].trim();
        match vars.iter().find(|(known, _)| *known == name) {
            Some((_, Value::Text(value))) if part == Part::Html => {
                out.push_str(&escape_html(value));
            }
            Some((_, Value::Text(value) | Value::Markup(value))) => out.push_str(value),
            None => out.push_str(&rest[start..start + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Text made safe for HTML, in element content and in quoted attributes alike.
fn escape_html(value: &str) -> Cow<'_, str> {
    if !value.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 16);
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// How long a link works, as a person says it: "30 minutes", "24 hours", "1 hour and 30
/// minutes", "7 days". Never less than a minute (a shorter link would be a setting the
/// configuration refuses); rounded down, so a mail never promises more than the link keeps.
pub(crate) fn in_words(lifetime: Duration) -> String {
    let minutes = lifetime.num_minutes().max(1);
    let (hours, minutes_left) = (minutes / 60, minutes % 60);
    let (days, hours_left) = (hours / 24, hours % 24);
    if hours == 0 {
        count(minutes, "minute")
    } else if hours <= 48 {
        match minutes_left {
            0 => count(hours, "hour"),
            left => format!("{} and {}", count(hours, "hour"), count(left, "minute")),
        }
    } else {
        match hours_left {
            0 => count(days, "day"),
            left => format!("{} and {}", count(days, "day"), count(left, "hour")),
        }
    }
}

fn count(n: i64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINK: &str = "https://tessera.example/#/reset-password?token=abc_DEF-123";

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_796_310_300, 0).unwrap_or_default()
    }

    fn rendered(kind: MailKind) -> Bodies {
        let link = kind.link_page().map(|_| (LINK, Duration::minutes(30)));
        render(kind, link, at())
    }

    #[test]
    fn lifetimes_are_said_in_words() {
        let cases = [
            (Duration::seconds(30), "1 minute"),
            (Duration::seconds(60), "1 minute"),
            (Duration::seconds(119), "1 minute"),
            (Duration::minutes(30), "30 minutes"),
            (Duration::seconds(1800), "30 minutes"),
            (Duration::minutes(60), "1 hour"),
            (Duration::minutes(90), "1 hour and 30 minutes"),
            (Duration::minutes(121), "2 hours and 1 minute"),
            (Duration::hours(24), "24 hours"),
            (Duration::seconds(86_400), "24 hours"),
            (Duration::hours(48), "48 hours"),
            (Duration::hours(72), "3 days"),
            (Duration::hours(73), "3 days and 1 hour"),
            (Duration::days(30), "30 days"),
        ];
        for (lifetime, words) in cases {
            assert_eq!(in_words(lifetime), words, "{lifetime}");
        }
    }

    #[test]
    fn every_kind_renders_both_parts_with_every_name_filled() {
        for kind in MailKind::ALL {
            let bodies = rendered(kind);
            for (part, body) in [("text", &bodies.text), ("html", &bodies.html)] {
                assert!(!body.contains("{{"), "{kind} {part}: {body}");
                assert!(!body.contains("}}"), "{kind} {part}: {body}");
                assert!(body.contains(PRODUCT), "{kind} {part}");
                assert!(
                    body.contains("If this wasn't you") || body.contains("If this wasn&#39;t you"),
                    "{kind} {part}"
                );
                assert!(body.is_ascii(), "{kind} {part}: templates are plain ASCII");
            }
            assert!(
                bodies
                    .html
                    .contains(&format!("<title>{}</title>", escape_html(kind.subject()))),
                "{kind}"
            );
        }
    }

    #[test]
    fn link_kinds_carry_the_link_and_its_lifetime_in_both_parts() {
        for kind in MailKind::ALL
            .into_iter()
            .filter(|k| k.link_page().is_some())
        {
            let bodies = rendered(kind);
            for body in [&bodies.text, &bodies.html] {
                assert!(body.contains(LINK), "{kind}");
                assert!(body.contains("30 minutes"), "{kind}");
            }
            assert!(bodies.html.contains(&format!("href=\"{LINK}\"")), "{kind}");
        }
    }

    #[test]
    fn notices_carry_no_link_and_say_when() {
        for kind in MailKind::ALL
            .into_iter()
            .filter(|k| k.link_page().is_none())
        {
            let bodies = rendered(kind);
            for body in [&bodies.text, &bodies.html] {
                assert!(!body.contains("http"), "{kind}: {body}");
                assert!(!body.contains("token"), "{kind}");
                assert!(
                    body.contains("Thursday 3 December 2026 at 15:05 UTC"),
                    "{kind}: {body}"
                );
            }
        }
    }

    #[test]
    fn the_reset_mail_says_the_password_stays_and_notices_say_what_to_do() {
        let reset = rendered(MailKind::ResetPassword);
        assert!(reset.text.contains("your password stays"), "{}", reset.text);
        for kind in [
            MailKind::PasswordChanged,
            MailKind::MfaDisabled,
            MailKind::PasskeyAdded,
        ] {
            let text = rendered(kind).text.to_lowercase();
            assert!(
                text.contains("change your password") || text.contains("reset your password"),
                "{kind}"
            );
            assert!(text.contains("sessions"), "{kind}");
            assert!(text.contains("contact support"), "{kind}");
        }
        let changed = rendered(MailKind::EmailChanged).text.to_lowercase();
        assert!(changed.contains("contact support") && changed.contains("sessions"));
    }

    #[test]
    fn html_is_one_centred_table_of_600_px_without_images_or_external_css() {
        for kind in MailKind::ALL {
            let html = rendered(kind).html;
            assert_eq!(html.matches("<table").count(), 1, "{kind}");
            assert!(html.contains("width=\"600\""), "{kind}");
            assert!(html.contains("max-width:600px"), "{kind}");
            assert!(html.contains("align=\"center\""), "{kind}");
            for banned in ["<img", "<link", "<style", "<script", "url("] {
                assert!(!html.contains(banned), "{kind}: {banned}");
            }
        }
    }

    #[test]
    fn values_are_escaped_in_html_and_kept_in_text() {
        let link = "https://t.example/#/verify-email?token=a&b=\"<x>'";
        let bodies = render(
            MailKind::VerifyEmail,
            Some((link, Duration::hours(24))),
            at(),
        );
        assert!(bodies.text.contains(link));
        assert!(!bodies.html.contains(link));
        assert!(bodies.html.contains("token=a&amp;b=&quot;&lt;x&gt;&#39;"));
    }

    #[test]
    fn fill_leaves_unknown_names_and_unclosed_braces_as_written() {
        let vars = [("a", Value::Text("<1>")), ("m", Value::Markup("<b>"))];
        assert_eq!(
            fill("{{a}} {{ a }} {{b}} {{m}} {{a", &vars, Part::Text),
            "<1> <1> {{b}} <b> {{a"
        );
        assert_eq!(fill("{{a}} {{m}}", &vars, Part::Html), "&lt;1&gt; <b>");
    }
}

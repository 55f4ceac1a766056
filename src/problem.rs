//! Problems met during a run: each recorded against its source with the stage it happened in
//! and a stable code, like the rule diagnostics' R-codes, so a script (or a person with the
//! README) can tell them apart without parsing messages. A problem never stops the run.
//!
//! Codes by family: `F0xx` fetching, `C0xx` character decoding, `L0xx` listings (feeds,
//! sitemaps, homepages), `E0xx` page extraction, `D0xx` dates, `J0xx` judging.
//! They are listed, with what to do about each, in the README.

use serde::Serialize;

/// Where in the pipeline a problem arose (the JSON report's `stage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Reading a file, or a network failure not named below.
    Fetch,
    Dns,
    Connect,
    Tls,
    Timeout,
    /// An HTTP status other than success.
    Http,
    /// A redirect loop, or too many redirects.
    Redirect,
    /// A body cut at the size cap.
    TooLarge,
    /// A page the site's robots.txt disallows.
    Robots,
    /// A private or loopback address, refused by `--deny-private-networks`.
    Denied,
    Decode,
    Feed,
    Extract,
    Date,
    Judge,
}

macro_rules! codes {
    ($($(#[$doc:meta])* $name:ident = $code:literal, $stage:ident;)*) => {
        /// What went wrong, as a stable code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $($(#[$doc])* $name,)*
        }

        impl Code {
            /// The code as printed (`F014`).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$name => $code,)*
                }
            }

            /// The stage every problem of this code belongs to.
            pub fn stage(self) -> Stage {
                match self {
                    $(Code::$name => Stage::$stage,)*
                }
            }

            /// Every code, in order (for the README's table and its test).
            pub const ALL: &[Code] = &[$(Code::$name,)*];
        }
    };
}

codes! {
    /// A local file or directory could not be read.
    FileUnreadable = "F001", Fetch;
    /// An `http(s)` location where only local files can be read.
    HttpUnavailable = "F002", Fetch;
    DnsFailed = "F010", Dns;
    ConnectFailed = "F011", Connect;
    TlsFailed = "F012", Tls;
    TimedOut = "F013", Timeout;
    /// An HTTP status other than success (after retries where they apply).
    HttpStatus = "F014", Http;
    /// A redirect loop, or more redirects than allowed.
    RedirectLoop = "F015", Redirect;
    RobotsDisallowed = "F016", Robots;
    PrivateAddress = "F017", Denied;
    /// The connection broke while the body was read.
    BodyBroken = "F018", Fetch;
    /// A body larger than the cap: only its beginning was read.
    BodyCut = "F020", TooLarge;
    /// A replay has no capture of the address (the run kept none, or it failed its check).
    NotReplayable = "F030", Fetch;
    /// Bytes invalid in the chosen encoding were replaced.
    BytesReplaced = "C001", Decode;
    /// A legacy encoding declared on valid UTF-8: read as UTF-8.
    Utf8OverDeclaration = "C002", Decode;
    /// A document that is neither a feed nor a sitemap the reader can read.
    NotAFeed = "L001", Feed;
    /// An HTML page where a feed was expected.
    HtmlNotFeed = "L002", Feed;
    /// A feed or sitemap with an empty body.
    EmptyBody = "L003", Feed;
    /// A feed cut short: the entries before the cut were read.
    FeedTruncated = "L004", Feed;
    /// One entry of a feed could not be read; the others were.
    EntryUnreadable = "L005", Feed;
    /// A flaw in a feed repaired before reading (recorded, not lost).
    FeedRepaired = "L006", Feed;
    /// A sitemap that cannot be read.
    SitemapUnreadable = "L007", Feed;
    /// A sitemap index listing more sitemaps than are read.
    SitemapIndexCut = "L008", Feed;
    /// A sitemap index listed by a sitemap index (only one level is read).
    SitemapIndexNested = "L011", Feed;
    /// A homepage that advertises no feed.
    NoFeedAdvertised = "L009", Feed;
    /// A feed the strict parser refused, read entry by entry.
    FeedReadEntryByEntry = "L010", Feed;
    /// A page nested too deep to extract.
    PageTooDeep = "E001", Extract;
    /// An invalid JSON-LD block (its dates and body are not used).
    InvalidJsonLd = "E002", Extract;
    /// Extraction failed unexpectedly on this document (an internal error, isolated).
    ExtractionCrashed = "E003", Extract;
    /// A date that cannot be parsed.
    DateUnparseable = "D001", Date;
    /// A date later than the evaluation instant.
    DateInFuture = "D002", Date;
    /// A date before `--date-floor`.
    DateTooOld = "D003", Date;
    /// Two sources of dates disagree.
    DatesDisagree = "D004", Date;
    /// Judging failed unexpectedly on this item (an internal error, isolated).
    JudgingCrashed = "J001", Judge;
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem, against its source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub source: String,
    pub url: String,
    pub stage: Stage,
    pub code: Code,
    pub message: String,
    /// The first of the unbroken series of runs that met it (from the state store): a
    /// problem met last night too is not news (`--new-only` leaves it out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since_run: Option<i64>,
}

impl Problem {
    pub fn new(source: &str, url: &url::Url, code: Code, message: impl Into<String>) -> Problem {
        Problem {
            source: source.to_string(),
            url: url.to_string(),
            stage: code.stage(),
            code,
            message: message.into(),
            since_run: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_name_their_family() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            assert!(seen.insert(code.as_str()), "{code} twice");
            let family = match code.stage() {
                Stage::Decode => 'C',
                Stage::Feed => 'L',
                Stage::Extract => 'E',
                Stage::Date => 'D',
                Stage::Judge => 'J',
                _ => 'F',
            };
            assert!(code.as_str().starts_with(family), "{code}");
        }
    }
}

//! Any text as a rule file, and any values in a window's anchors (day, time, date, offset,
//! event): loaded or refused with diagnostics that render; never a panic. Free text rarely
//! forms a valid window, so half the inputs fill the anchors of one that is otherwise valid.
#![no_main]
use libfuzzer_sys::fuzz_target;

/// A valid rule file whose window anchors take the fuzzed values.
fn with_anchors(day: i64, time: &str, date: &str, offset: &str, end_offset: &str, event: &str, text: &str) -> String {
    let q = |s: &str| toml::Value::String(s.to_string()).to_string();
    format!(
        "schema = 1\n[election]\nid = \"t\"\nname = \"t\"\ncountry = \"FR\"\nreference_zone = \"paris\"\n\
         rounds = [{{ id = \"r\", polling_date = \"2017-05-07\" }}]\n\
         [[zone]]\nid = \"paris\"\ntz = \"Europe/Paris\"\npolls_open = \"08:00\"\npolls_close = \"20:00\"\n\
         [[window]]\nid = \"w\"\ncategory = \"campaign\"\nzones = \"all\"\nlegal_force = \"statute\"\n\
         start = {{ day = {day}, time = {}, offset = {} }}\n\
         end = {{ event = {}, of = \"zone\", offset = {} }}\n\
         [[window]]\nid = \"w2\"\ncategory = \"polls\"\nzones = \"all\"\nlegal_force = \"statute\"\n\
         start = {{ date = {}, time = {}, clock = \"paris\" }}\nend = {{ event = \"close\" }}\n{text}",
        q(time),
        q(offset),
        q(event),
        q(end_offset),
        q(date),
        q(time),
    )
}

fuzz_target!(|input: (bool, i64, &str, &str, &str, &str, &str, &str)| {
    let (structured, day, time, date, offset, end_offset, event, text) = input;
    let file = match structured {
        true => with_anchors(day, time, date, offset, end_offset, event, text),
        false => text.to_string(),
    };
    if let Err(e) = blackout::rules::RuleSet::from_sources(vec![("fuzz.toml".into(), file)]) {
        let _ = e.to_string();
    }
});

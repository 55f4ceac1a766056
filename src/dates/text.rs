//! Everything that is not ISO: RFC 822 and its relatives, asctime, localised names.

use super::*;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(String),
    Word(String),
    /// `HH:MM[:SS]` or French `23h10`.
    Time(Clock),
    /// `+0200`, `-01:01`, `GMT-01:01`.
    Offset(FixedOffset),
    /// `2006/09/15`.
    Ymd(i32, u32, u32),
}

pub(super) fn parse(raw: &str) -> Result<Stamp, DateError> {
    let s = korean(raw).unwrap_or_else(|| raw.to_lowercase());
    if let Some(result) = iso::parse(&s) {
        return result;
    }
    let tokens = tokenize(&s)?;
    assemble(&tokens)
}

/// The two Korean blog formats feedparser handles: `2004-05-25 오후 11:23:17` (Nate) and
/// `2004년 05월 28일  01:31:15` (OnBlog). Rewritten as ISO without a zone.
fn korean(s: &str) -> Option<String> {
    if !s.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c)) {
        return None;
    }
    let mut out = s.replace(['년', '월'], "-").replace('일', " ");
    while out.contains("- ") {
        out = out.replace("- ", "-");
    }
    let pm = out.contains("오후");
    out = out.replace("오전", " ").replace("오후", " ");
    let mut parts = out.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    if let [date, time] = parts.as_mut_slice() {
        let date: String = date.split('-').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("-");
        if pm {
            let (h, rest) = time.split_once(':')?;
            let h: u32 = h.parse().ok()?;
            *time = format!("{:02}:{rest}", if h < 12 { h + 12 } else { h });
        }
        return Some(format!("{date} {time}"));
    }
    None
}

fn tokenize(s: &str) -> Result<Vec<Token>, DateError> {
    let chars: Vec<char> = s.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() || c == ',' || c == '.' && tokens.last().is_some_and(|t| matches!(t, Token::Word(_))) {
            i += 1;
            continue;
        }
        if c.is_ascii_digit() {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_digit() || matches!(chars[i], ':' | '/' | 'h') && chars.get(i + 1).is_some_and(char::is_ascii_digit))
            {
                i += 1;
            }
            // `23h` at the end of a French date: hour only.
            if i < chars.len() && chars[i] == 'h' && !chars.get(i + 1).is_some_and(|c| c.is_alphabetic()) {
                i += 1;
            }
            let run: String = chars[start..i].iter().collect();
            tokens.push(number_like(&run)?);
            continue;
        }
        if c == '+' || c == '-' {
            let start = i;
            i += 1;
            while i < chars.len() && !chars[i].is_whitespace() {
                i += 1;
            }
            let run: String = chars[start..i].iter().collect();
            if run == "-" {
                // A free-standing dash separates the date from the time (`13 Mars, 2020 - 12:22`).
                continue;
            }
            tokens.push(Token::Offset(numeric_offset(&run)?));
            continue;
        }
        if c.is_alphabetic() {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphabetic() || chars[i] == '/' || chars[i] == '.' && chars.get(i + 1).is_some_and(|c| c.is_alphabetic()))
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            // `GMT-01:01`, `UTC+2`: a zone name glued to an offset.
            if matches!(word.as_str(), "gmt" | "utc" | "ut") && i < chars.len() && matches!(chars[i], '+' | '-') {
                let start = i;
                while i < chars.len() && !chars[i].is_whitespace() {
                    i += 1;
                }
                let run: String = chars[start..i].iter().collect();
                let padded = pad_hour(&run);
                tokens.push(Token::Offset(numeric_offset(&padded)?));
                continue;
            }
            tokens.push(Token::Word(word));
            continue;
        }
        return Err(DateError::Format);
    }
    Ok(tokens)
}

/// `+2` → `+02`, for offsets glued to `GMT`.
fn pad_hour(run: &str) -> String {
    let (sign, body) = run.split_at(1);
    let hours_len = body.find(':').unwrap_or(body.len());
    if hours_len == 1 {
        format!("{sign}0{body}")
    } else {
        run.to_string()
    }
}

fn number_like(run: &str) -> Result<Token, DateError> {
    if run.contains(':') || run.contains('h') {
        let parts: Vec<&str> = run.split([':', 'h']).collect();
        if parts.len() > 3 || parts.iter().skip(1).any(|p| p.len() > 2) || parts[0].len() > 2 {
            return Err(DateError::Format);
        }
        let field = |i: usize| -> Result<Option<u32>, DateError> {
            match parts.get(i) {
                None | Some(&"") => Ok(None),
                Some(p) => p.parse().map(Some).map_err(|_| DateError::Format),
            }
        };
        let hour = field(0)?.ok_or(DateError::Format)?;
        let second = field(2)?;
        return Ok(Token::Time(Clock::new(
            hour,
            field(1)?.unwrap_or(0),
            second.unwrap_or(0),
            second.is_some(),
        )?));
    }
    if run.contains('/') {
        let parts: Vec<&str> = run.split('/').collect();
        if let [y, m, d] = parts.as_slice()
            && y.len() == 4
        {
            let p = |x: &str| x.parse::<u32>().map_err(|_| DateError::Format);
            return Ok(Token::Ymd(p(y)? as i32, p(m)?, p(d)?));
        }
        // Slash dates other than Y/M/D are ambiguous between day-first and month-first.
        return Err(DateError::Format);
    }
    Ok(Token::Number(run.to_string()))
}

fn assemble(tokens: &[Token]) -> Result<Stamp, DateError> {
    let words: Vec<&str> = tokens
        .iter()
        .filter_map(|t| if let Token::Word(w) = t { Some(w.as_str()) } else { None })
        .collect();
    let month_words = words.iter().filter(|w| month_number(w).is_some()).count();
    let mut seen_time = false;
    let (mut year, mut month, mut day) = (None::<i32>, None::<u32>, None::<u32>);
    let (mut clock, mut offset, mut pm) = (None::<Clock>, None::<FixedOffset>, None::<bool>);
    let mut numbers: Vec<&str> = Vec::new();
    let mut first_word = true;
    for token in tokens {
        match token {
            Token::Word(w) => {
                let w = w.as_str();
                let leading = std::mem::replace(&mut first_word, false);
                // A leading name that is both a weekday and a month (`mar`, Italian
                // Tuesday / March) is the weekday when another month name follows.
                if leading && is_weekday(w) && (month_number(w).is_none() || month_words > 1) {
                    continue;
                }
                if let Some(m) = month_number(w).filter(|_| month.is_none() && !seen_time) {
                    month = Some(m);
                } else if matches!(w, "am" | "a.m" | "pm" | "p.m") && seen_time {
                    pm = Some(w.starts_with('p'));
                } else if let Some(minutes) = named_zone(w).filter(|_| seen_time && offset.is_none()) {
                    offset = Some(offset_from_minutes(minutes, w)?);
                } else if matches!(w, "à" | "le" | "at" | "um" | "alle") && !seen_time {
                    continue;
                } else {
                    return Err(DateError::UnknownWord(w.to_string()));
                }
            }
            Token::Number(n) => {
                first_word = false;
                numbers.push(n);
            }
            Token::Time(c) => {
                first_word = false;
                if clock.replace(*c).is_some() {
                    return Err(DateError::Format);
                }
                seen_time = true;
            }
            Token::Offset(o) => {
                if offset.replace(*o).is_some() || !seen_time {
                    return Err(DateError::Format);
                }
            }
            Token::Ymd(y, m, d) => {
                first_word = false;
                if year.replace(*y).is_some() {
                    return Err(DateError::Format);
                }
                (month, day) = (Some(*m), Some(*d));
            }
        }
    }
    // With a month name, the free numbers are the day (1–2 digits) and the year.
    for n in numbers {
        if n.len() <= 2 && day.is_none() && month.is_some() {
            day = Some(n.parse().map_err(|_| DateError::Format)?);
        } else if (n.len() == 4 || n.len() == 2) && year.is_none() {
            year = Some(expand_year(n)?);
        } else {
            return Err(DateError::Format);
        }
    }
    let (year, month) = (year.ok_or(DateError::Format)?, month.ok_or(DateError::Format)?);
    let day = day.ok_or(DateError::Format)?;
    if let (Some(c), Some(pm)) = (clock.as_mut(), pm) {
        if c.hour == 0 || c.hour > 12 {
            return Err(DateError::Impossible(format!("hour {} on a 12-hour clock", c.hour)));
        }
        c.hour = match (c.hour, pm) {
            (12, false) => 0,
            (12, true) => 12,
            (h, true) => h + 12,
            (h, false) => h,
        };
    }
    stamp(year, month, day, clock, Precision::Day, offset)
}

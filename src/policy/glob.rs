//! IAM's wildcards, `*` (any run of characters) and `?` (one character), as
//! they match a name and as two patterns relate: whether some name matches
//! both (`overlap`), and whether every name one matches the other matches
//! too (`covers`). Action names compare without regard to case, as IAM
//! compares them; ARNs with it.

/// Whether `text` matches `glob`.
pub fn matches(glob: &str, text: &str) -> bool {
    let (glob, text): (Vec<char>, Vec<char>) = (glob.chars().collect(), text.chars().collect());
    // Two pointers, backtracking to the last star: linear in practice.
    let (mut g, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if g < glob.len() && (glob[g] == '?' || glob[g] == text[t]) {
            g += 1;
            t += 1;
        } else if g < glob.len() && glob[g] == '*' {
            star = Some((g, t));
            g += 1;
        } else if let Some((star_g, star_t)) = star {
            g = star_g + 1;
            t = star_t + 1;
            star = Some((star_g, star_t + 1));
        } else {
            return false;
        }
    }
    glob[g..].iter().all(|c| *c == '*')
}

/// IAM action names are case-insensitive.
fn folded(pattern: &str) -> Vec<char> {
    pattern.to_lowercase().chars().collect()
}

/// An action pattern's service and action parts, when it has them: an
/// action name is `service:Action` with one colon, so a wildcard in one
/// part never reaches into the other.
fn parts(pattern: &str) -> Option<(&str, &str)> {
    pattern.split_once(':').filter(|(_, action)| !action.contains(':'))
}

/// Whether some action name matches both patterns (case-insensitive):
/// `iam:Put*` and `iam:*User*` overlap (`iam:PutUserPolicy`).
pub fn overlap(a: &str, b: &str) -> bool {
    if let (Some((service_a, action_a)), Some((service_b, action_b))) = (parts(a), parts(b)) {
        return overlap_whole(service_a, service_b) && overlap_whole(action_a, action_b);
    }
    overlap_whole(a, b)
}

fn overlap_whole(a: &str, b: &str) -> bool {
    let (a, b) = (folded(a), folded(b));
    let mut memo = vec![vec![None; b.len() + 1]; a.len() + 1];
    overlap_from(&a, &b, 0, 0, &mut memo)
}

fn overlap_from(a: &[char], b: &[char], i: usize, j: usize, memo: &mut Vec<Vec<Option<bool>>>) -> bool {
    if let Some(known) = memo[i][j] {
        return known;
    }
    let result = match (a.get(i), b.get(j)) {
        (None, None) => true,
        // A star takes nothing, or one more character of the other side.
        (Some('*'), _) => overlap_from(a, b, i + 1, j, memo) || (j < b.len() && overlap_from(a, b, i, j + 1, memo)),
        (_, Some('*')) => overlap_from(a, b, i, j + 1, memo) || (i < a.len() && overlap_from(a, b, i + 1, j, memo)),
        (Some(x), Some(y)) => (*x == '?' || *y == '?' || x == y) && overlap_from(a, b, i + 1, j + 1, memo),
        _ => false,
    };
    memo[i][j] = Some(result);
    result
}

/// Whether every action name `inner` matches, `outer` matches too
/// (case-insensitive): `iam:*` covers `iam:Put*`, `*` covers everything,
/// `iam:Put*` does not cover `iam:*`. Sound, not complete: when it says
/// yes it is so, and the patterns IAM policies use are decided exactly.
pub fn covers(outer: &str, inner: &str) -> bool {
    if let (Some((service_o, action_o)), Some((service_i, action_i))) = (parts(outer), parts(inner)) {
        return covers_whole(service_o, service_i) && covers_whole(action_o, action_i);
    }
    covers_whole(outer, inner)
}

fn covers_whole(outer: &str, inner: &str) -> bool {
    let (outer, inner) = (folded(outer), folded(inner));
    let mut memo = vec![vec![None; inner.len() + 1]; outer.len() + 1];
    covers_from(&outer, &inner, 0, 0, &mut memo)
}

fn covers_from(outer: &[char], inner: &[char], i: usize, j: usize, memo: &mut Vec<Vec<Option<bool>>>) -> bool {
    if let Some(known) = memo[i][j] {
        return known;
    }
    let result = match (outer.get(i), inner.get(j)) {
        (None, None) => true,
        // The outer star absorbs any run of the inner pattern, wildcards included.
        (Some('*'), _) => {
            covers_from(outer, inner, i + 1, j, memo) || (j < inner.len() && covers_from(outer, inner, i, j + 1, memo))
        }
        // An inner star stands for any run: only an outer star can take it.
        (_, Some('*')) => false,
        (Some('?'), Some(_)) => covers_from(outer, inner, i + 1, j + 1, memo),
        (Some(x), Some(y)) => x == y && covers_from(outer, inner, i + 1, j + 1, memo),
        _ => false,
    };
    memo[i][j] = Some(result);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_globs() {
        assert!(matches(
            "arn:aws:iam::*:role/ReadOnly",
            "arn:aws:iam::123456789012:role/ReadOnly"
        ));
        assert!(matches(
            "arn:aws:iam::12345678901?:role/*",
            "arn:aws:iam::123456789012:role/a/b"
        ));
        assert!(!matches(
            "arn:aws:iam::*:role/ReadOnly",
            "arn:aws:iam::123456789012:role/ReadOnlyX"
        ));
        assert!(!matches(
            "arn:aws:iam::*:role/readonly",
            "arn:aws:iam::123456789012:role/ReadOnly"
        ));
        assert!(matches("*", ""));
        assert!(!matches("", "x"));
    }

    #[test]
    fn patterns_overlap_when_one_name_matches_both() {
        for (a, b) in [
            ("iam:Put*", "iam:PutUserPolicy"),
            ("iam:PutUserPolicy", "iam:Put*"),
            ("*", "iam:CreateUser"),
            ("iam:*", "iam:Put*"),
            ("iam:Put*", "iam:*UserPolicy"),
            ("IAM:putuserpolicy", "iam:PutUserPolicy"),
            ("iam:?reateUser", "iam:Create*"),
            ("*:*", "organizations:*"),
        ] {
            assert!(overlap(a, b), "{a} and {b}");
        }
        for (a, b) in [
            ("iam:Get*", "iam:Put*"),
            ("s3:*", "iam:*"),
            ("iam:List*", "iam:CreateUser"),
            ("iam:CreateUser?", "iam:CreateUser"),
            ("*:Get*", "organizations:Accept*"),
        ] {
            assert!(!overlap(a, b), "{a} and {b}");
        }
    }

    #[test]
    fn a_pattern_covers_what_it_matches_all_of() {
        for (outer, inner) in [
            ("iam:*", "iam:Put*"),
            ("*", "iam:*"),
            ("iam:*", "IAM:PutUserPolicy"),
            ("iam:Put*", "iam:PutUser*"),
            ("iam:?ut*", "iam:Put*"),
            ("iam:*Policy", "iam:Put*Policy"),
        ] {
            assert!(covers(outer, inner), "{outer} covers {inner}");
        }
        for (outer, inner) in [
            ("iam:Put*", "iam:*"),
            ("iam:PutUserPolicy", "iam:Put*"),
            ("s3:*", "iam:*"),
            ("iam:?", "iam:*"),
        ] {
            assert!(!covers(outer, inner), "{outer} does not cover {inner}");
        }
    }
}

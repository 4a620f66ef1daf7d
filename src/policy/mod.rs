//! Pure IAM policy code, no I/O: build trust and assume-role documents and service
//! control policies, compare documents by meaning, validate documents and ARNs before
//! anything is written to AWS.

pub mod console;
pub mod document;
pub mod glob;
pub mod guardrails;
pub mod scp;
pub mod sessions;
pub mod trust;
pub mod validate;

use validate::ArnKind;

/// What is wrong with a policy input, worded for the user who has to fix it.
///
/// Values that came from a Secret (the external ID) are never echoed, because these
/// messages end up in status conditions and Events that many people can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("policy document is not valid JSON, neither plain nor URL-encoded: {detail}")]
    MalformedDocument { detail: String },

    #[error("policy document, {path}: {problem}")]
    InvalidDocument { path: String, problem: String },

    #[error(
        "policy document contains {character:?} (U+{code:04X}); IAM accepts only tab, line breaks \
         and characters from U+0020 to U+00FF",
        code = u32::from(*character)
    )]
    UnsupportedCharacter { character: char },

    #[error(
        "policy document has {actual} characters not counting whitespace, more than the {limit} \
         IAM allows: remove statements or split it into several policies"
    )]
    DocumentTooLarge { actual: usize, limit: usize },

    #[error(
        "inline policies together have {actual} characters not counting whitespace, more than the \
         {limit} IAM allows for one role or group: move some of them into managed policies"
    )]
    InlinePoliciesTooLarge { actual: usize, limit: usize },

    #[error("{value:?} is not a valid {expected}: {problem}")]
    InvalidArn {
        value: String,
        expected: ArnKind,
        problem: String,
    },

    #[error("{value:?} is not an AWS account id: write the 12 digits, e.g. \"123456789012\"")]
    InvalidAccountId { value: String },

    #[error(
        "the external ID {problem}: it must be 2 to 1224 characters, each a letter, a digit or one \
         of _ + = , . @ : / -"
    )]
    InvalidExternalId { problem: String },

    #[error("{value:?} is not usable as an AWS CLI profile name: use letters, digits and - _ . @ + only")]
    InvalidProfileName { value: String },

    #[error(
        "the trust policy names nobody, so the role could never be assumed: list at least one \
         account or principal ARN"
    )]
    NoTrustedPrincipal,
}

//! Helpers shared by the validated text types.

/// Whether `s` holds a character that the storage cannot keep in a text column.
///
/// PostgreSQL refuses the NUL character in `text`; refusing it here turns what would be a
/// database error into a validation error naming the field.
pub(crate) fn has_forbidden_char(s: &str) -> bool {
    s.contains('\0')
}

/// Length in Unicode scalar values, the unit the contract counts in.
pub(crate) fn char_len(s: &str) -> usize {
    s.chars().count()
}

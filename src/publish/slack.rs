//! OWNED BY A HELPER: see the task prompt.

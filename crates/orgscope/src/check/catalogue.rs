//! `catalogue!`: declares a diagnostic enum whose code, severity and span come from one line
//! per variant, so that the codes are written once and listed in [`super::CODES`].

/// Declares the enum as written, each variant `Name("code", Severity) { span: Span, .. }`, and
/// derives `CODES` (every code, in declaration order) and [`crate::diag::Diagnose`] from it; the
/// help text comes from the enum's own `help_text`.
macro_rules! catalogue {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $variant:ident ($code:literal, $severity:ident) {
                    $( $(#[$fmeta:meta])* $field:ident : $ty:ty ),* $(,)?
                }
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        pub enum $name {
            $(
                $(#[$vmeta])*
                $variant { $( $(#[$fmeta])* $field : $ty ),* }
            ),*
        }

        impl $name {
            /// Every code of this catalogue, in declaration order.
            #[cfg(feature = "unstable-syntax")]
            pub const CODES: &'static [&'static str] = &[$($code),*];
        }

        impl $crate::diag::Diagnose for $name {
            fn code(&self) -> &'static str {
                match self {
                    $( $name::$variant { .. } => $code ),*
                }
            }

            fn span(&self) -> $crate::syntax::ast::Span {
                match self {
                    $( $name::$variant { span, .. } => *span ),*
                }
            }

            fn help(&self) -> Option<String> {
                self.help_text()
            }

            fn severity(&self) -> $crate::diag::Severity {
                match self {
                    $( $name::$variant { .. } => $crate::diag::Severity::$severity ),*
                }
            }
        }
    };
}

//! Identity from a verified JWT (`Authorization: Bearer`): the algorithm is pinned to the
//! configured key, `exp` is required, `nbf`, `iss` and `aud` are checked, and the user and the
//! tenant's Multi-Org switch are read from configurable claims.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use orgscope::User;
use serde_json::Value;
use std::path::Path;

/// The signature algorithm, and so the kind of key file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtAlgorithm {
    /// HMAC-SHA256 with a shared secret: the key file's bytes (a final newline dropped), at
    /// least 32 of them.
    Hs256,
    /// RSA PKCS#1 v1.5 with SHA-256: a PEM public key.
    Rs256,
    /// ECDSA P-256 with SHA-256: a PEM public key.
    Es256,
}

impl std::str::FromStr for JwtAlgorithm {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_uppercase().as_str() {
            "HS256" => Ok(JwtAlgorithm::Hs256),
            "RS256" => Ok(JwtAlgorithm::Rs256),
            "ES256" => Ok(JwtAlgorithm::Es256),
            _ => Err(format!("`{s}` is not one of HS256, RS256, ES256")),
        }
    }
}

/// Where the identity is in the token's claims: a top-level claim name, or a JSON pointer
/// (starting with `/`) for a nested one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtClaims {
    /// The user's id (default `sub`).
    pub user: String,
    /// The user's orgs: an array of strings, or one comma-separated string (default `orgs`).
    pub orgs: String,
    /// The user's default org (default `default_org`).
    pub default_org: String,
    /// The tenant's Multi-Org switch, a boolean (default `multi_org`; absent: the policy's
    /// default).
    pub multi_org: String,
}

impl Default for JwtClaims {
    fn default() -> Self {
        JwtClaims {
            user: "sub".into(),
            orgs: "orgs".into(),
            default_org: "default_org".into(),
            multi_org: "multi_org".into(),
        }
    }
}

/// A verifier of bearer tokens, built once at start.
#[derive(Clone)]
pub struct Jwt {
    key: DecodingKey,
    validation: Validation,
    claims: JwtClaims,
}

impl std::fmt::Debug for Jwt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwt")
            .field("algorithms", &self.validation.algorithms)
            .field("claims", &self.claims)
            .finish_non_exhaustive()
    }
}

impl Jwt {
    /// Reads the key for `algorithm` from `key_file`; tokens must then carry exactly that
    /// algorithm, an `exp`, and the `issuer` and `audience` when given.
    pub fn from_file(
        algorithm: JwtAlgorithm,
        key_file: &Path,
        issuer: Option<&str>,
        audience: Option<&str>,
        claims: JwtClaims,
    ) -> Result<Jwt, String> {
        let bytes = std::fs::read(key_file)
            .map_err(|e| format!("cannot read key `{}`: {e}", key_file.display()))?;
        let bad = |e: jsonwebtoken::errors::Error| {
            format!(
                "key `{}` is not a {algorithm:?} key: {e}",
                key_file.display()
            )
        };
        let (key, alg) = match algorithm {
            JwtAlgorithm::Hs256 => {
                let secret = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
                if secret.len() < 32 {
                    return Err(format!(
                        "key `{}` is an HS256 secret of {} bytes: use at least 32",
                        key_file.display(),
                        secret.len()
                    ));
                }
                (DecodingKey::from_secret(secret), Algorithm::HS256)
            }
            JwtAlgorithm::Rs256 => (
                DecodingKey::from_rsa_pem(&bytes).map_err(bad)?,
                Algorithm::RS256,
            ),
            JwtAlgorithm::Es256 => (
                DecodingKey::from_ec_pem(&bytes).map_err(bad)?,
                Algorithm::ES256,
            ),
        };
        // One algorithm only: a token naming another (`none`, or HS256 signed with an RSA
        // public key as its secret) fails before its signature is looked at.
        let mut validation = Validation::new(alg);
        validation.leeway = 30;
        validation.validate_nbf = true;
        let mut required = vec!["exp"];
        match issuer {
            Some(iss) => {
                validation.set_issuer(&[iss]);
                required.push("iss");
            }
            None => validation.iss = None,
        }
        match audience {
            Some(aud) => {
                validation.set_audience(&[aud]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&required);
        Ok(Jwt {
            key,
            validation,
            claims,
        })
    }

    /// The user and the Multi-Org switch of a verified token; `Err` says why it is not
    /// believed (for the service's own log, never for the client).
    pub(crate) fn identify(&self, token: &str) -> Result<(User, Option<bool>), String> {
        let data = jsonwebtoken::decode::<Value>(token, &self.key, &self.validation)
            .map_err(|e| e.to_string())?;
        let c = &data.claims;
        let text = |path: &str| -> Result<Option<String>, String> {
            match claim(c, path) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
                Some(Value::Number(n)) => Ok(Some(n.to_string())),
                Some(_) => Err(format!("claim `{path}` is not a string")),
            }
        };
        let orgs: Vec<String> = match claim(c, &self.claims.orgs) {
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(|s| s.trim().to_string()))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    format!(
                        "claim `{}` has an item that is not a string",
                        self.claims.orgs
                    )
                })?,
            Some(Value::String(s)) => s.split(',').map(|o| o.trim().to_string()).collect(),
            _ => Vec::new(),
        };
        let orgs: Vec<String> = orgs.into_iter().filter(|o| !o.is_empty()).collect();
        if orgs.is_empty() {
            return Err(format!("claim `{}` names no org", self.claims.orgs));
        }
        let multi_org = match claim(c, &self.claims.multi_org) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                return Err(format!(
                    "claim `{}` is not a boolean",
                    self.claims.multi_org
                ))
            }
        };
        let user = User {
            id: text(&self.claims.user)?,
            orgs,
            default_org: text(&self.claims.default_org)?,
        };
        Ok((user, multi_org))
    }
}

/// A claim by top-level name, or by JSON pointer.
fn claim<'v>(claims: &'v Value, path: &str) -> Option<&'v Value> {
    if path.starts_with('/') {
        claims.pointer(path)
    } else {
        claims.get(path)
    }
}

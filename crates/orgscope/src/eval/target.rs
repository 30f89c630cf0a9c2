//! Routing: which endpoint and route the method and path match, and what the request does.

use super::{Ctx, Deny, Res, Target};
use crate::compile::{ObjSpec, ObjectType, TypeIdx};
use crate::decision::ErrorCode;
use crate::request::Text;
use crate::syntax::ast::Method;
use std::borrow::Cow;

impl<'p: 'r, 'r, S: Text> Ctx<'p, 'r, S> {
    /// Works out action and object from the matched route, the request, or the default route.
    pub(super) fn target(&mut self, method: Option<Method>) -> Res<Target<'r>> {
        let req = self.req;
        let routed = req.method.is_some() && req.path.is_some();
        let endpoint = match (method, &req.path) {
            (Some(m), Some(_)) => self.p.endpoints.find(m, self.segments),
            _ => None,
        };
        if let Some(e) = endpoint {
            self.params = &e.params;
            self.trace.decide(e.rule, "endpoint", || {
                format!("matched `{}` of service `{}`", e.template, e.service)
            });
        }
        let route = match (method, &req.path) {
            (Some(m), Some(_)) => self.p.routes.find(m, self.segments),
            _ => None,
        };
        let route = match route {
            Some(r) => {
                self.trace.step(Some(r.rule), "route", || {
                    format!("matched `{}` -> {}", r.template, r.action.keyword())
                });
                if endpoint.is_none() {
                    self.params = &r.params;
                }
                Some(r)
            }
            // Given a method and a path, routes decide, whatever `action` says (an endpoint
            // needs no route: it decides the org ID only).
            None if req.action.is_none() || (routed && endpoint.is_none()) => {
                self.p.default_route.as_ref().inspect(|r| {
                    self.trace.step(Some(r.rule), "route", || {
                        "no route matched; using the default".into()
                    })
                })
            }
            None => None,
        };
        let given_object = match &req.object {
            Some(o) => Some(self.p.resolve_type(o).ok_or(&**o)),
            None => None,
        };
        let Some(route) = route else {
            if (req.action.is_none() || routed) && endpoint.is_none() {
                let what = match (&req.method, &req.path) {
                    (Some(m), Some(p)) => format!("`{m} {p}`"),
                    _ => "the request (it has no method and path, nor an `action`)".to_string(),
                };
                let deny = Deny::new(ErrorCode::NoRoute, format!("no route matches {what}"), None);
                return Err(match (method, &req.method) {
                    (None, Some(m)) => {
                        let upper = m.to_ascii_uppercase();
                        deny.hint(format!("methods are case-sensitive: send `{upper}`"))
                    }
                    _ => deny,
                });
            }
            return Ok(Target {
                action: req.action,
                object: given_object,
                route: None,
                endpoint,
            });
        };
        if let Some(a) = req.action.filter(|a| *a != route.action) {
            return Err(Deny::invalid(
                format!(
                    "the request says `{}` but the route `{}` says `{}`",
                    a.keyword(),
                    route.template,
                    route.action.keyword()
                ),
                Some(route.rule),
            ));
        }
        let object = match &route.object {
            ObjSpec::None => given_object,
            ObjSpec::Named(t) => Some(Ok(*t)),
            ObjSpec::FromField(f) => {
                let name = match self.field(f, self.body())? {
                    Some(Cow::Borrowed(n)) => n,
                    _ => {
                        return Err(Deny::invalid(
                            format!("`{}` must name the object type", f.text),
                            Some(route.rule),
                        ))
                    }
                };
                Some(self.p.resolve_type(name).ok_or(name))
            }
        };
        if let (Some(Ok(route_t)), Some(given)) = (object, given_object) {
            if given != Ok(route_t) {
                let given = req.object.as_deref().unwrap_or_default();
                return Err(Deny::invalid(
                    format!(
                        "the request says object `{given}` but the route `{}` says `{}`",
                        route.template,
                        self.p.object(route_t).map_or("", |t| &*t.name)
                    ),
                    Some(route.rule),
                ));
            }
        }
        self.trace.decided = Some(route.rule);
        Ok(Target {
            action: Some(route.action),
            object,
            route: Some(route),
            endpoint,
        })
    }

    /// The declared object type the request acts on.
    pub(super) fn object_type(&self, target: &Target<'r>) -> Res<(TypeIdx, &'r ObjectType)> {
        match target.object {
            Some(Ok(t)) => match self.p.object(t) {
                Some(o) => Ok((t, o)),
                None => Err(Deny::invalid("unknown object type".to_string(), None)),
            },
            Some(Err(name)) => Err(Deny::invalid(
                format!("unknown object type `{name}`"),
                target.route.map(|r| r.rule),
            )),
            None => Err(Deny::invalid(
                "the request does not say which object type it acts on".to_string(),
                target.route.map(|r| r.rule),
            )),
        }
    }
}

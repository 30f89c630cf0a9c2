# orgscope's Zuora Multi-Org decisions in Rego, for bench-compare.
#
# The input document is orgscope's request description as it is (method, path, headers, body,
# user, entities). The org directory, the object types and the routes are data, loaded once:
#
#   data.orgs   {"Asia": true, ...}                                   the org directory
#   data.types  {"invoice": {"parent": "account", "via": "accountId"}, ...}
#   data.routes {"POST /v1/invoices": {"action": "create", "object": "invoice"}, ...}
#
# `data.orgscope.decision` is the answer: {"allow": true, "visible": {...}, "labels": {...}} or
# {"allow": false, "errors": {{"code": ..., "status": ...}}}. It covers what the benchmark
# decides (Zuora-Org-Ids, creates that inherit their parent's org), not all of orgscope's
# language: no working-org header, explicit labels, fallbacks, reads or org-ID endpoints.
package orgscope

import rego.v1

# What the request does: the route of `METHOD /path`, or the action and object it names.
route := data.routes[concat(" ", [input.method, input.path])]

req_action := input.action

req_action := route.action if not input.action

req_object := input.object

req_object := route.object if not input.object

# The user's orgs that are in the directory.
user_orgs := {o | some o in input.user.orgs; data.orgs[o]}

# Zuora-Org-Ids: a comma list of orgs, each of which must be one of the user's.
org_ids_header := input.headers["Zuora-Org-Ids"]

requested := {o |
	some raw in split(org_ids_header, ",")
	o := trim_space(raw)
	o != ""
}

visible := requested if org_ids_header

visible := user_orgs if not org_ids_header

errors contains {"code": "invalid_request", "status": 400} if {
	org_ids_header
	count(requested) == 0
}

errors contains {"code": "org_access_denied", "status": 403} if {
	some o in requested
	not user_orgs[o]
}

errors contains {"code": "no_route", "status": 404} if not req_action

# Creates: the new object takes the org of its parent, which the request must be able to see.
type_info := data.types[req_object] if req_action == "create"

parent_id := input.body[type_info.via]

parent := e if {
	some e in input.entities
	e.type == type_info.parent
	e.id == parent_id
}

errors contains {"code": "parent_required", "status": 400} if {
	type_info.parent
	not parent_id
}

errors contains {"code": "parent_not_found", "status": 404} if {
	parent_id
	not visible[parent.org]
}

labels contains {"org": parent.org, "source": "inherited"} if visible[parent.org]

decision := {"allow": true, "status": 200, "visible": visible, "labels": labels} if count(errors) == 0

decision := {"allow": false, "errors": errors} if count(errors) > 0

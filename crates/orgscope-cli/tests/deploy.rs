//! The shipped deployment files: every YAML parses, the Kubernetes example carries this
//! repository's policy and Envoy configuration verbatim, and Envoy accepts its configurations.

mod common;

use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// Every YAML document of `file` (relative to the repository), as JSON, parsed by PyYAML
/// (`yaml.safe_load_all`, which refuses anything but plain data).
fn yaml(file: &str) -> Vec<Value> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))",
        ])
        .arg(Path::new(common::ROOT).join(file))
        .output()
        .expect("run python3 (with PyYAML: pip install pyyaml)");
    assert!(
        out.status.success(),
        "{file} does not parse: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn read(file: &str) -> String {
    std::fs::read_to_string(Path::new(common::ROOT).join(file)).unwrap()
}

/// The shipped Envoy configuration as the sidecar runs it: listening on every address.
fn sidecar_envoy() -> String {
    let shipped = read("deploy/envoy/envoy.yaml");
    let local = "socket_address: { address: 127.0.0.1, port_value: 8080 }";
    assert!(shipped.contains(local));
    shipped.replacen(
        local,
        "socket_address: { address: 0.0.0.0, port_value: 8080 }",
        1,
    )
}

#[test]
fn every_shipped_yaml_parses() {
    let mut files = Vec::new();
    for dir in ["deploy/envoy", "deploy/k8s", "deploy/traefik"] {
        for entry in std::fs::read_dir(Path::new(common::ROOT).join(dir)).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if name.ends_with(".yaml") || name.ends_with(".yml") {
                files.push(format!("{dir}/{name}"));
            }
        }
    }
    assert!(files.len() >= 4, "{files:?}");
    for file in files {
        let docs = yaml(&file);
        assert!(
            !docs.is_empty() && docs.iter().all(Value::is_object),
            "{file}"
        );
    }
}

#[test]
fn envoy_config_checks_with_orgscope_and_never_fails_open() {
    let config = &yaml("deploy/envoy/envoy.yaml")[0];
    let chain = &config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0];
    let hcm = &chain["typed_config"];
    assert_eq!(hcm["normalize_path"], true);
    assert_eq!(hcm["path_with_escaped_slashes_action"], "REJECT_REQUEST");
    let filters = hcm["http_filters"].as_array().unwrap();
    let names: Vec<&str> = filters
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    // The authentication layer sets the identity before ext_authz reads it; the router is last.
    assert_eq!(
        names,
        [
            "envoy.filters.http.header_mutation",
            "envoy.filters.http.ext_authz",
            "envoy.filters.http.router"
        ]
    );
    let authz = &filters[1]["typed_config"];
    assert_eq!(authz["failure_mode_allow"], false);
    assert_eq!(authz["status_on_error"]["code"], "ServiceUnavailable");
    assert_eq!(authz["encode_raw_headers"], true);
    assert_eq!(authz["with_request_body"]["allow_partial_message"], false);
    assert_eq!(
        authz["grpc_service"]["envoy_grpc"]["cluster_name"],
        "orgscope"
    );
    // Every client copy of an identity header is removed before the layer sets its own.
    let mutations = &filters[0]["typed_config"]["mutations"]["request_mutations"];
    for h in ["user", "orgs", "default-org", "multi-org"] {
        let name = format!("x-auth-{h}");
        assert!(
            mutations
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["remove"] == name.as_str()),
            "{name}"
        );
    }
}

#[test]
fn kubernetes_sidecar_carries_the_shipped_files() {
    let docs = yaml("deploy/k8s/orgscope-sidecar.yaml");
    let kind = |k: &str, name: &str| {
        docs.iter()
            .find(|d| d["kind"] == k && d["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no {k} {name}"))
    };
    let policy = kind("ConfigMap", "orgscope-policy");
    assert_eq!(
        policy["data"]["policy.policy"].as_str(),
        Some(read("policies/zuora-multi-org.policy").as_str())
    );
    let envoy = kind("ConfigMap", "orgscope-envoy");
    assert_eq!(
        envoy["data"]["envoy.yaml"].as_str(),
        Some(sidecar_envoy().as_str())
    );
    let pod = &kind("Deployment", "api")["spec"]["template"]["spec"];
    let containers = pod["containers"].as_array().unwrap();
    let names: Vec<&str> = containers
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["app", "orgscope", "envoy"]);
    let orgscope = &containers[1];
    let args: Vec<&str> = orgscope["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    // ext_authz on the loopback port the sidecar Envoy calls, the policy from the ConfigMap.
    let after = |flag: &str| args[args.iter().position(|a| *a == flag).unwrap() + 1];
    assert_eq!(after("--grpc-addr"), "127.0.0.1:9191");
    assert_eq!(after("--policy"), "/etc/orgscope/policy.policy");
    assert_eq!(
        orgscope["readinessProbe"]["httpGet"]["path"],
        "/health/ready"
    );
    // Mounted as directories: a `subPath` mount never sees a ConfigMap update (no hot reload).
    for c in containers {
        for m in c["volumeMounts"].as_array().into_iter().flatten() {
            assert!(m.get("subPath").is_none(), "{m}");
        }
    }
    // The flags the example passes are flags `orgscope serve` has.
    let help = common::run(&["serve", "--help"], b"");
    let help = common::stdout(&help);
    for flag in args.iter().filter(|a| a.starts_with("--")) {
        assert!(help.contains(flag), "orgscope serve has no {flag}");
    }
}

/// Envoy's own validation (`--mode validate`) of the shipped and the sidecar configurations.
#[test]
fn envoy_accepts_the_shipped_configs() {
    let Some(envoy) = common::envoy() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("orgscope-deploy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sidecar = dir.join("sidecar-envoy.yaml");
    std::fs::write(&sidecar, sidecar_envoy()).unwrap();
    for config in [
        Path::new(common::ROOT).join("deploy/envoy/envoy.yaml"),
        sidecar,
    ] {
        let out = Command::new(&envoy)
            .arg("-c")
            .arg(&config)
            .args(["--mode", "validate", "--disable-hot-restart", "-l", "error"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            config.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

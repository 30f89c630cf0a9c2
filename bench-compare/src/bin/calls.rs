//! N decisions of one seed scenario in a loop, and nothing else: the program to run under
//! `valgrind --tool=callgrind` for instructions per decision.
//!
//! Usage: `calls SCENARIO PATH N` with SCENARIO `query`, `invoice`, `chain` or `users1000` (a
//! user with 1,000 orgs in a 1,000-org directory, the scale runs' largest) and PATH
//! `prebuilt` (`Policy::evaluate`), `principal` (`Policy::evaluate_as`), `json`
//! (`Policy::evaluate_json`) or `cedar` (the application's one prebuilt Cedar call, as timed
//! beside orgscope's `prebuilt`). Per decision: (instructions at N2 − instructions at N1) /
//! (N2 − N1), which takes the load and set-up out.

use bench_compare::{scale, zuora, World};
use std::hint::black_box;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [scenario, path, n] = &args[..] else {
        eprintln!("usage: calls query|invoice|chain|users1000 prebuilt|principal|json|cedar N");
        std::process::exit(2);
    };
    let (world, scenario) = match scenario.as_str() {
        "query" => (World::zuora(), zuora::query()),
        "invoice" => (World::zuora(), zuora::create_invoice()),
        "chain" => (World::zuora(), zuora::create_chain()),
        "users1000" => (
            World::generated(scale::users_policy()),
            scale::query_user_orgs(1000),
        ),
        other => {
            eprintln!("calls: unknown scenario `{other}`");
            std::process::exit(2)
        }
    };
    let Ok(n) = n.parse::<u64>() else {
        eprintln!("calls: N must be a number, not `{n}`");
        std::process::exit(2)
    };
    let p = world.prepare(&scenario);
    let call = || match path.as_str() {
        "prebuilt" => Some(world.orgscope_eval(&p).is_allow()),
        "principal" => Some(world.orgscope_eval_principal(&p).is_allow()),
        "json" => Some(world.orgscope_eval_json(&p.json).is_allow()),
        "cedar" => Some(world.cedar.eval(p.cedar.as_ref())),
        _ => None,
    };
    let mut allowed = 0u64;
    for _ in 0..n {
        match black_box(call()) {
            Some(a) => allowed += u64::from(a),
            None => {
                eprintln!("calls: unknown path `{path}`");
                std::process::exit(2)
            }
        }
    }
    println!("{allowed} of {n} allowed");
}

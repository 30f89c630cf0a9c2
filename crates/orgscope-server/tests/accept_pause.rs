//! Out of file descriptors, the service's accept loop pauses instead of spinning a core, and
//! serves again once descriptors are free: a real server in this process (its own test binary,
//! since the descriptor limit is the process's), its clients in a child process.
#![cfg(target_os = "linux")]

mod common;

use common::{eventually, get, repo};
use orgscope_server::{Config, Server};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Opens `sys.argv[1]` connections to port `sys.argv[2]` once told to, then holds them.
const CLIENTS: &str = r#"
import socket, sys
sys.stdin.readline()
held = [socket.create_connection(("127.0.0.1", int(sys.argv[2]))) for _ in range(int(sys.argv[1]))]
print("connected", flush=True)
sys.stdin.readline()
"#;

/// This process's limit on open files, soft and hard.
fn nofile() -> libc::rlimit {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `getrlimit` writes the limit into the struct it is given, nothing else.
    assert_eq!(
        unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) },
        0
    );
    limit
}

fn set_nofile(limit: libc::rlimit) {
    // SAFETY: `setrlimit` only reads the struct it is given.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) }, 0);
}

/// CPU time this process has used, user and system, in clock ticks (1/100 s on Linux), read
/// from `/proc/self/stat` through a file opened beforehand (no descriptor is left to open one).
fn cpu_ticks(stat: &mut File) -> u64 {
    let mut text = String::new();
    stat.seek(SeekFrom::Start(0)).unwrap();
    stat.read_to_string(&mut text).unwrap();
    // Fields after the command name, which is in parentheses: utime and stime are 12th and 13th.
    let rest = &text[text.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

#[test]
fn out_of_descriptors_the_accept_loop_pauses_then_serves() {
    let mut config = Config::new(repo("policies/zuora-multi-org.policy"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    let server = Server::start(config).unwrap();
    let addr = server.addr();
    eventually("the policy to load", || {
        get(addr, "/health/ready").status == 200
    });

    let mut clients = Command::new("python3")
        .args(["-c", CLIENTS, "16", &addr.port().to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    let mut told = clients.stdin.take().unwrap();
    let mut heard = BufReader::new(clients.stdout.take().unwrap());

    // Room for two more descriptors: the server accepts two clients, the rest stay queued.
    let mut stat = File::open("/proc/self/stat").unwrap();
    let limit = nofile();
    let open = std::fs::read_dir("/proc/self/fd").unwrap().count() as libc::rlim_t;
    set_nofile(libc::rlimit {
        rlim_cur: open + 2,
        ..limit
    });
    writeln!(told, "connect").unwrap();
    let mut line = String::new();
    heard.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "connected");
    std::thread::sleep(Duration::from_millis(300));
    let before = cpu_ticks(&mut stat);
    std::thread::sleep(Duration::from_secs(1));
    let spent = cpu_ticks(&mut stat) - before;
    set_nofile(limit);

    // A loop retrying at once burns the whole second; pausing 50 ms between tries, almost none.
    assert!(
        spent < 30,
        "the server used {spent} ticks of CPU in 1 s while out of descriptors"
    );
    eventually("the service to answer once descriptors are free", || {
        get(addr, "/health/ready").status == 200
    });
    writeln!(told, "done").unwrap();
    clients.wait().unwrap();
}

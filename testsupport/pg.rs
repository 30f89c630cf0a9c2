//! A throwaway PostgreSQL cluster for tests: `initdb` in a temporary directory, `pg_ctl start`
//! on a free port, `pg_ctl stop -m immediate` and the directory removed on drop. Run as root
//! (CI), the server runs as the `postgres` user (or `nobody`), since PostgreSQL refuses root.
//! Shared by the tests of several crates, each including it with `#[path]`.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A running cluster.
pub struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    as_user: Option<&'static str>,
    /// The TCP port on 127.0.0.1.
    pub port: u16,
}

/// Where `initdb` is: on PATH, or in Debian's /usr/lib/postgresql/<version>/bin.
fn bin_dir() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    let mut debian: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    debian.sort();
    on_path
        .into_iter()
        .chain(debian.into_iter().rev())
        .find(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file())
        .expect("PostgreSQL not found: install it (`apt-get install -y postgresql`)")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// The unprivileged user to run the server as when we are root.
fn server_user() -> &'static str {
    let exists = |u: &str| {
        Command::new("id")
            .arg(u)
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    };
    if exists("postgres") {
        "postgres"
    } else {
        "nobody"
    }
}

impl Cluster {
    /// Initializes and starts a new cluster.
    pub fn start() -> Cluster {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "orgscope-pg-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let as_user = is_root().then(server_user);
        if let Some(user) = as_user {
            let ok = Command::new("chown")
                .args(["-R", user])
                .arg(&dir)
                .status()
                .unwrap();
            assert!(ok.success(), "chown {} to {user}", dir.display());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cluster = Cluster {
            bin: bin_dir(),
            dir,
            as_user,
            port,
        };
        let data = cluster.dir.join("data");
        cluster.run(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-U".as_ref(),
                "postgres".as_ref(),
                "--auth=trust".as_ref(),
                "--no-sync".as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
                "--locale=C".as_ref(),
            ],
        );
        cluster.resume();
        cluster
    }

    /// Starts the server (again, after [`Cluster::stop`]) on the same port and data.
    pub fn resume(&self) {
        let data = self.data();
        let opts = format!(
            "-k {} -p {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.dir.display(),
            self.port
        );
        self.run(
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-o".as_ref(),
                opts.as_ref(),
                "-l".as_ref(),
                self.dir.join("log").as_os_str(),
                "-w".as_ref(),
                "start".as_ref(),
            ],
        );
    }

    /// Stops the server at once, as a crash would (`pg_ctl stop -m immediate`).
    pub fn stop(&self) {
        let _ = self.command("pg_ctl").args(self.stop_args()).output();
    }

    fn stop_args(&self) -> [std::ffi::OsString; 6] {
        [
            "-D".into(),
            self.data().into_os_string(),
            "-m".into(),
            "immediate".into(),
            "-w".into(),
            "stop".into(),
        ]
    }

    /// Runs a PostgreSQL program, as the server user when we are root; its output goes to a
    /// file, never to the test's pipes (the server outlives the command).
    fn run(&self, program: &str, args: &[&std::ffi::OsStr]) {
        let out = self
            .command(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("run {program}: {e}"));
        let log = std::fs::read_to_string(self.dir.join("log")).unwrap_or_default();
        assert!(
            out.status.success(),
            "{program} failed: {}{}\n{log}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A connection to database `postgres` as `user` (trust authentication).
    pub fn connect(&self, user: &str) -> postgres::Client {
        postgres::Client::connect(
            &format!(
                "host=127.0.0.1 port={} user={user} dbname=postgres",
                self.port
            ),
            postgres::NoTls,
        )
        .unwrap()
    }

    /// A PostgreSQL program, run as the server user when we are root, from the cluster's
    /// directory, with no standard input.
    fn command(&self, program: &str) -> Command {
        let exe = self.bin.join(program);
        let mut cmd = match self.as_user {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(exe);
                c
            }
            None => Command::new(exe),
        };
        cmd.current_dir(&self.dir)
            .stdin(std::process::Stdio::null());
        cmd
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

//! A scoped name that is also a service's name, given by value in `environment` and in an
//! `env_file`, on the real engine: the fixture `tests/fixtures/refs-envfile` runs unedited from
//! the main checkout and from three sandboxes beside it. In each stack, values under a key
//! naming a network (`DOCKER_NETWORK`, and `OPEN_RUNTIMES_NETWORK` from the env file, which
//! compose itself never rewrites) name that stack's own network; values under other keys
//! (`EXECUTOR_HOST`, `DB_SCHEMA` from the env file, a traefik router's service label) keep the
//! name, and `EXECUTOR_HOST` reaches that stack's own service by it.

use crate::common::TestEnv;
use crate::references::{all_differ, clear, container, env_of, inside, inspect, three_beside_main};
use crate::services::{Cleanup, docker_ready};

const NAME: &str = "gsrefsenv21";

#[test]
fn a_network_named_like_a_service_follows_only_under_network_keys_env_file_too() {
    if !docker_ready() {
        return;
    }
    let t = TestEnv::named(&format!("rfe{}", std::process::id()));
    let _cleanup = Cleanup(t.repo_name());
    clear(None, NAME, None);
    let projects = three_beside_main(&t, "refs-envfile");
    let (mut nets, mut execs) = (Vec::new(), Vec::new());
    for (i, p) in projects.iter().enumerate() {
        let (app, exec) = (container(p, "app"), container(p, NAME));
        let joined = inspect(
            &app,
            "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}",
        );
        if i == 0 {
            assert_eq!(joined, NAME);
        } else {
            assert!(joined.starts_with(p.as_str()), "{p}: {joined}");
        }
        for key in ["DOCKER_NETWORK", "OPEN_RUNTIMES_NETWORK"] {
            assert_eq!(env_of(&app, key), joined, "{p}: {key}");
        }
        for key in ["EXECUTOR_HOST", "DB_SCHEMA"] {
            assert_eq!(env_of(&app, key), NAME, "{p}: {key}");
        }
        assert_eq!(env_of(&app, "LOG_LEVEL"), "info", "{p}");
        let label = inspect(
            &app,
            "{{index .Config.Labels \"traefik.http.routers.app.service\"}}",
        );
        assert_eq!(label, NAME, "{p}");
        // The kept name still reaches this stack's own service.
        let page = inside(&app, &["wget", "-qO-", &format!("http://{NAME}:80/")]);
        let own = inside(&exec, &["hostname"]);
        assert_eq!(page, format!("exec={own}"), "{p}: reached another stack");
        nets.push(joined);
        execs.push(own);
    }
    all_differ("networks", &nets);
    all_differ("services", &execs);

    let out = t.run(&t.repo, &["compose-file", "-v", "a"]);
    let said = String::from_utf8_lossy(&out.stderr);
    for line in [
        &format!("service app: environment EXECUTOR_HOST={NAME}: kept, {NAME} is also a service"),
        // compose's `config` puts env-file variables in `environment`; the fallback's model
        // keeps `env_file:`, and the renderer does it (the unit tests of render/env_files.rs).
        &format!("OPEN_RUNTIMES_NETWORK={NAME} → "),
        &format!("service app: environment DOCKER_NETWORK={NAME} → "),
    ] {
        assert!(said.contains(line.as_str()), "{line} not said:\n{said}");
    }
    let _ = t
        .program("docker-compose", &t.repo)
        .args(["down", "-v", "-t", "0"])
        .output();
    clear(None, NAME, None);
}

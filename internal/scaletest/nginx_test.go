package scaletest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fmixzoo/zoo/internal/testutil"
)

// nginxConf is the load balancer's configuration. nginx has no active
// health checks (that is NGINX Plus); it marks a replica down for
// fail_timeout after max_fails failed attempts and sends the request to the
// next one. proxy_next_upstream retries a request on a connection error
// (refused: the replica is down or restarting; reset or closed before a
// response header: it was killed or closed an idle keep-alive connection)
// and on a 502/503 from the replica, which zoo-serve answers only when it did
// not classify (shutting down, queue full, model unavailable). non_idempotent
// extends that to POSTs: classification has no side effects, so repeating
// one is safe. Once a response has started nothing is retried.
const nginxConf = `worker_processes 1;
pid {{.Prefix}}/nginx.pid;
error_log {{.Prefix}}/error.log warn;
events { worker_connections 4096; }
http {
	log_format upstream '$status|$upstream_addr|$upstream_status|$request_time';
	access_log {{.Prefix}}/access.log upstream;
	client_body_temp_path {{.Prefix}}/tmp/body;
	proxy_temp_path {{.Prefix}}/tmp/proxy;
	fastcgi_temp_path {{.Prefix}}/tmp/fastcgi;
	uwsgi_temp_path {{.Prefix}}/tmp/uwsgi;
	scgi_temp_path {{.Prefix}}/tmp/scgi;

	upstream zoo {
{{- range .Replicas}}
		server {{.}} max_fails=1 fail_timeout={{$.FailTimeout}}s;
{{- end}}
		keepalive 64;
	}
	server {
		listen {{.Listen}};
		client_max_body_size 16m;
		location / {
			proxy_pass http://zoo;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_connect_timeout 1s;
			proxy_read_timeout 60s;
			proxy_next_upstream error timeout http_502 http_503 non_idempotent;
			proxy_next_upstream_tries 4;
			proxy_next_upstream_timeout 15s;
		}
	}
}
`

// failTimeout is how long nginx leaves a replica alone after a failed
// attempt. Open-source nginx does not poll /readyz: a replica that is ready
// again gets traffic only once this has passed, so a rolling restart waits
// this long after /readyz before it takes down the next replica (a
// Kubernetes Service, which follows readiness, needs no such wait).
const failTimeout = time.Second

// lb is a running nginx.
type lb struct {
	url, prefix string
	p           *testutil.Proc
}

func startNginx(t testing.TB, replicas []string) *lb {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		bin = "/usr/sbin/nginx"
		if _, err := os.Stat(bin); err != nil {
			testutil.Need(t, fmt.Errorf("nginx not installed: %w", err))
		}
	}
	prefix := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(prefix, "tmp"), 0o755))
	listen := testutil.FreeAddr(t)
	f, err := os.Create(filepath.Join(prefix, "nginx.conf"))
	require.NoError(t, err)
	err = template.Must(template.New("nginx").Parse(nginxConf)).Execute(f, map[string]any{
		"Prefix": prefix, "Listen": listen, "Replicas": replicas, "FailTimeout": int(failTimeout / time.Second)})
	require.NoError(t, err)
	require.NoError(t, f.Close())
	// -e: the error log before the configuration is read (else /var/log).
	l := &lb{url: "http://" + listen, prefix: prefix}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("nginx error log:\n%s", l.errorLog())
		}
	})
	l.p = testutil.Start(t, nil, bin, "-p", prefix, "-e", filepath.Join(prefix, "error.log"),
		"-c", filepath.Join(prefix, "nginx.conf"), "-g", "daemon off;")
	l.p.WaitListen(t, listen, 10*time.Second)
	return l
}

// upstreamShare counts, from the access log, the requests each replica
// answered (the last address of $upstream_addr) and how many requests nginx
// sent to more than one replica.
func (l *lb) upstreamShare(t testing.TB) (share map[string]int, retried int) {
	t.Helper()
	f, err := os.Open(filepath.Join(l.prefix, "access.log"))
	require.NoError(t, err)
	defer f.Close()
	share = map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// status|addresses tried, separated by ", "|their statuses|time
		fields := strings.Split(sc.Text(), "|")
		if len(fields) != 4 {
			continue
		}
		tried := strings.Split(fields[1], ", ")
		if len(tried) > 1 {
			retried++
		}
		share[tried[len(tried)-1]]++
	}
	require.NoError(t, sc.Err())
	return share, retried
}

// errorLog is nginx's error log, for explaining failures.
func (l *lb) errorLog() string {
	data, _ := os.ReadFile(filepath.Join(l.prefix, "error.log"))
	return string(data)
}

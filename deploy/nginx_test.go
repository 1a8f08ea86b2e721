package deploy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestNginxConfigs runs `nginx -t` on the production server block and the
// compose one, each with the shared locations file, as nginx loads them.
// Only what nginx cannot have here is replaced: the compose upstreams'
// host names (they resolve inside compose only) by 127.0.0.1, and the
// production block gets a self-signed certificate for its TLS listener.
func TestNginxConfigs(t *testing.T) {
	t.Parallel()
	nginx := requireTool(t, "nginx", false)
	root := repoRoot(t)
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	locations := filepath.Join(root, "scripts", "deploy", "taxi-locations.conf")

	for name, c := range map[string]struct {
		file string
		edit func(string) string
	}{
		"compose": {"deploy/nginx/compose.conf", func(s string) string {
			return regexp.MustCompile(`server taxi-[a-z]+:`).ReplaceAllString(s, "server 127.0.0.1:")
		}},
		"production": {"scripts/deploy/nginx.conf", func(s string) string {
			return strings.Replace(s, "listen 443 ssl;", "listen 443 ssl; ssl_certificate "+cert+"; ssl_certificate_key "+key+";", 1)
		}},
	} {
		t.Run(name, func(t *testing.T) {
			site := c.edit(string(mustRead(t, filepath.Join(root, c.file))))
			if !strings.Contains(site, "include /etc/nginx/taxi-locations.conf;") {
				t.Fatalf("%s does not include /etc/nginx/taxi-locations.conf", c.file)
			}
			site = strings.ReplaceAll(site, "/etc/nginx/taxi-locations.conf", locations)
			prefix := filepath.Join(dir, name)
			if err := os.MkdirAll(prefix, 0o755); err != nil {
				t.Fatal(err)
			}
			main := "pid " + filepath.Join(prefix, "nginx.pid") + ";\nerror_log stderr;\nevents {}\nhttp {\n" + site + "\n}\n"
			conf := filepath.Join(prefix, "nginx.conf")
			if err := os.WriteFile(conf, []byte(main), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(nginx, "-t", "-p", prefix, "-c", conf).CombinedOutput(); err != nil {
				t.Errorf("nginx -t on %s: %v\n%s", c.file, err, out)
			}
		})
	}
}

// selfSigned writes a certificate and key for localhost into dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for file, block := range map[string]*pem.Block{certFile: {Type: "CERTIFICATE", Bytes: der}, keyFile: {Type: "EC PRIVATE KEY", Bytes: kder}} {
		if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return certFile, keyFile
}

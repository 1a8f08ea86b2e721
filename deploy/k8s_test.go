package deploy

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// decodeStrict decodes one manifest into out with the Kubernetes API
// types as the API server's strict field validation does: duplicate keys,
// fields the types do not have and fields spelt in another case are
// errors here rather than silently dropped.
func decodeStrict(t *testing.T, file string, out any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("k8s", file))
	if err != nil {
		t.Fatal(err)
	}
	j, err := yaml.YAMLToJSONStrict(b)
	if err != nil {
		t.Fatalf("k8s/%s: %v", file, err)
	}
	strict, err := kjson.UnmarshalStrict(j, out)
	if err != nil {
		t.Fatalf("k8s/%s: %v", file, err)
	}
	for _, e := range strict {
		t.Errorf("k8s/%s: %v", file, e)
	}
}

// manifests are the decoded files of deploy/k8s.
type manifests struct {
	deploy  appsv1.Deployment
	service corev1.Service
	pdb     policyv1.PodDisruptionBudget
	secret  corev1.Secret
}

func loadManifests(t *testing.T) *manifests {
	t.Helper()
	var kust struct {
		APIVersion string   `json:"apiVersion"`
		Kind       string   `json:"kind"`
		Resources  []string `json:"resources"`
		Images     []struct {
			Name    string `json:"name"`
			NewName string `json:"newName"`
			NewTag  string `json:"newTag"`
		} `json:"images"`
	}
	decodeStrict(t, "kustomization.yaml", &kust)
	want := []string{"deployment.yaml", "pdb.yaml", "service.yaml"}
	got := slices.Sorted(slices.Values(kust.Resources))
	if !slices.Equal(got, want) {
		t.Errorf("kustomization resources %v, want %v", got, want)
	}
	m := &manifests{}
	decodeStrict(t, "deployment.yaml", &m.deploy)
	decodeStrict(t, "service.yaml", &m.service)
	decodeStrict(t, "pdb.yaml", &m.pdb)
	decodeStrict(t, "secret.example.yaml", &m.secret)
	for _, o := range []struct{ kind, wantKind, file string }{
		{m.deploy.Kind, "Deployment", "deployment.yaml"},
		{m.service.Kind, "Service", "service.yaml"},
		{m.pdb.Kind, "PodDisruptionBudget", "pdb.yaml"},
		{m.secret.Kind, "Secret", "secret.example.yaml"},
	} {
		if o.kind != o.wantKind {
			t.Errorf("k8s/%s is a %q, want %s", o.file, o.kind, o.wantKind)
		}
	}
	if len(m.deploy.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("the Deployment has %d containers, want 1", len(m.deploy.Spec.Template.Spec.Containers))
	}
	if len(kust.Images) != 1 || kust.Images[0].Name != m.deploy.Spec.Template.Spec.Containers[0].Image {
		t.Errorf("kustomization images %+v do not rename the container's image %q", kust.Images, m.deploy.Spec.Template.Spec.Containers[0].Image)
	}
	return m
}

// envValues maps a container's variables to their literal values ("" for
// those taken from a field or a Secret).
func envValues(c corev1.Container) map[string]string {
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	return env
}

func duration(t *testing.T, name, v string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, v, err)
	}
	return d
}

// TestKubernetesShutdown keeps the pod's termination grace period, its
// preStop pause and the hub's drain delay and shutdown timeout consistent:
// the kubelet kills the pod at the end of the grace period, counted from
// the start of preStop, and the hub needs up to --shutdown-timeout after
// SIGTERM, drain delay included.
func TestKubernetesShutdown(t *testing.T) {
	t.Parallel()
	m := loadManifests(t)
	pod := m.deploy.Spec.Template.Spec
	c := pod.Containers[0]
	env := envValues(c)
	drain := duration(t, "TAXI_DRAIN_DELAY", env["TAXI_DRAIN_DELAY"])
	shutdown := duration(t, "TAXI_SHUTDOWN_TIMEOUT", env["TAXI_SHUTDOWN_TIMEOUT"])
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil {
		t.Fatal("no preStop sleep: the pod would close its WebSockets before endpoints stop routing to it")
	}
	preStop := time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
	if pod.TerminationGracePeriodSeconds == nil {
		t.Fatal("no terminationGracePeriodSeconds")
	}
	grace := time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second
	if drain <= 0 || drain >= shutdown {
		t.Errorf("TAXI_DRAIN_DELAY %v must be positive and shorter than TAXI_SHUTDOWN_TIMEOUT %v", drain, shutdown)
	}
	if need := preStop + shutdown + 2*time.Second; grace < need {
		t.Errorf("terminationGracePeriodSeconds %v < preStop %v + TAXI_SHUTDOWN_TIMEOUT %v + 2s: the pod is killed mid-shutdown", grace, preStop, shutdown)
	}
	if preStop <= 0 || preStop > 15*time.Second {
		t.Errorf("preStop sleep %v: want a few seconds", preStop)
	}
}

// TestKubernetesProbesAndPorts checks the probes reach the hub's health
// endpoints on the port it listens on, and the Service and the
// PodDisruptionBudget select the Deployment's pods.
func TestKubernetesProbesAndPorts(t *testing.T) {
	t.Parallel()
	m := loadManifests(t)
	tmpl := m.deploy.Spec.Template
	c := tmpl.Spec.Containers[0]
	env := envValues(c)

	_, port, err := net.SplitHostPort(env["TAXI_ADDR"])
	if err != nil {
		t.Fatalf("TAXI_ADDR=%q: %v", env["TAXI_ADDR"], err)
	}
	if len(c.Ports) != 1 || c.Ports[0].Name != "http" || fmt.Sprint(c.Ports[0].ContainerPort) != port {
		t.Errorf("container ports %+v: want one named http on TAXI_ADDR's port %s", c.Ports, port)
	}
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{
		{"liveness", c.LivenessProbe, "/healthz"},
		{"readiness", c.ReadinessProbe, "/readyz"},
	} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("no HTTP %s probe", p.name)
			continue
		}
		if p.probe.HTTPGet.Path != p.path || p.probe.HTTPGet.Port.String() != "http" {
			t.Errorf("%s probe GET %s on port %s, want %s on http", p.name, p.probe.HTTPGet.Path, p.probe.HTTPGet.Port.String(), p.path)
		}
	}

	podLabels := labels.Set(tmpl.Labels)
	sel := labels.SelectorFromSet(m.deploy.Spec.Selector.MatchLabels)
	if !sel.Matches(podLabels) {
		t.Errorf("the Deployment's selector %v does not match its pods' labels %v", sel, podLabels)
	}
	if !labels.SelectorFromSet(m.service.Spec.Selector).Matches(podLabels) {
		t.Errorf("the Service's selector %v does not match the pods' labels %v", m.service.Spec.Selector, podLabels)
	}
	if len(m.service.Spec.Ports) != 1 || m.service.Spec.Ports[0].TargetPort.String() != "http" {
		t.Errorf("Service ports %+v: want one with targetPort http", m.service.Spec.Ports)
	}
	if m.pdb.Spec.Selector == nil || !labels.SelectorFromSet(m.pdb.Spec.Selector.MatchLabels).Matches(podLabels) {
		t.Errorf("the PodDisruptionBudget's selector %v does not match the pods' labels %v", m.pdb.Spec.Selector, podLabels)
	}
	replicas := int32(1)
	if m.deploy.Spec.Replicas != nil {
		replicas = *m.deploy.Spec.Replicas
	}
	if mu := m.pdb.Spec.MaxUnavailable; mu == nil || mu.IntValue() < 1 || int32(mu.IntValue()) >= replicas {
		t.Errorf("PodDisruptionBudget maxUnavailable %v with %d replicas: want at least 1 and fewer than the replicas", mu, replicas)
	}
	if ru := m.deploy.Spec.Strategy.RollingUpdate; ru == nil || ru.MaxUnavailable == nil || ru.MaxUnavailable.IntValue() != 0 {
		t.Error("the rolling update may take pods down before new ones are ready: want maxUnavailable 0")
	}
}

// TestKubernetesEnvironment checks that every variable the Deployment sets
// is read by taxi serve (or the Go runtime), that secrets come from the
// Secret by keys it has, and that GOMEMLIMIT leaves headroom under the
// memory limit.
func TestKubernetesEnvironment(t *testing.T) {
	t.Parallel()
	m := loadManifests(t)
	c := m.deploy.Spec.Template.Spec.Containers[0]
	checkEnvNames(t, "k8s/deployment.yaml", envValues(c))

	fromSecret := map[string]bool{}
	for _, e := range c.Env {
		if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			continue
		}
		ref := e.ValueFrom.SecretKeyRef
		if ref.Name != m.secret.Name {
			t.Errorf("%s comes from Secret %q; secret.example.yaml names %q", e.Name, ref.Name, m.secret.Name)
		}
		if _, ok := m.secret.StringData[ref.Key]; !ok {
			t.Errorf("%s comes from key %q, which secret.example.yaml does not have", e.Name, ref.Key)
		}
		fromSecret[e.Name] = true
	}
	for _, name := range []string{"TAXI_AUTH_SECRET", "REDIS_URL"} {
		if !fromSecret[name] {
			t.Errorf("%s is not read from the Secret", name)
		}
	}

	limit := c.Resources.Limits.Memory()
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := c.Resources.Requests[r]; !ok {
			t.Errorf("no %s request", r)
		}
		if _, ok := c.Resources.Limits[r]; !ok {
			t.Errorf("no %s limit", r)
		}
	}
	gomem := strings.TrimSuffix(envValues(c)["GOMEMLIMIT"], "B") // 1800MiB is 1800Mi to resource.Quantity
	q, err := resource.ParseQuantity(gomem)
	if err != nil {
		t.Fatalf("GOMEMLIMIT: %v", err)
	}
	if ratio := q.AsApproximateFloat64() / limit.AsApproximateFloat64(); ratio < 0.75 || ratio > 0.95 {
		t.Errorf("GOMEMLIMIT %s is %.0f%% of the memory limit %s: want 75-95%%", q.String(), 100*ratio, limit.String())
	}
}

// TestKubernetesSecurity checks the pod runs as the image's non-root user
// with a read-only root file system and no privileges.
func TestKubernetesSecurity(t *testing.T) {
	t.Parallel()
	m := loadManifests(t)
	pod := m.deploy.Spec.Template.Spec
	psc, csc := pod.SecurityContext, pod.Containers[0].SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Fatal("the pod does not run as a non-root user")
	}
	stage, _ := finalStage(t)
	if !slices.Contains(stage, fmt.Sprintf("USER %d:%d", *psc.RunAsUser, *psc.RunAsGroup)) {
		t.Errorf("the pod runs as %d:%d, the image's USER differs", *psc.RunAsUser, *psc.RunAsGroup)
	}
	if csc == nil || csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem {
		t.Error("the root file system is writable")
	}
	if csc == nil || csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation {
		t.Error("privilege escalation is allowed")
	}
	if csc == nil || csc.Capabilities == nil || !slices.Contains(csc.Capabilities.Drop, "ALL") {
		t.Error("capabilities are not all dropped")
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("the pod mounts a service account token it never uses")
	}
}

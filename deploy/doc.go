// Package deploy holds what operators deploy and watch taxi with, and the
// tests that keep it in step with the binary. It has no code of its own:
// every file besides this one is a deployment artefact or a test of them.
//
//   - compose.yaml, nginx/compose.conf: Redis, two nodes and nginx with docker
//     compose; the nginx locations are scripts/deploy/taxi-locations.conf.
//   - k8s/: Deployment, Service, PodDisruptionBudget and an example Secret,
//     applied with kubectl apply -k.
//   - grafana/taxi.json: the Grafana dashboard over the nodes' /metrics.
//   - prometheus/alerts.yaml, prometheus/alerts_test.yaml: alerting rules and
//     their promtool unit tests.
//
// The tests: tools_test.go checks the binary internal/taxibuild builds as
// the Dockerfile does, and finds the external tools; image_test.go builds
// and runs the image's final stage with buildah; k8s_test.go and compose_test.go decode the manifests
// with the Kubernetes API types and the compose loader and check probes,
// ports, grace periods and environment variables against `taxi serve`;
// metrics_test.go runs promtool and checks that every metric the dashboard
// and the rules name is exported by a running hub (internal/hubtest);
// nginx_test.go runs nginx -t on the production and compose nginx
// configurations. The tests run in parallel; the binary is built once.
//
// docs/deploy.md walks through all of it.
package deploy

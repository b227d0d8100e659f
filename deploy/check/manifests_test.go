package check

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	kusttypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// deployDir is deploy/, the parent of this module.
const deployDir = ".."

// kinds maps apiVersion/kind to the type a document decodes into.
var kinds = map[string]func() any{
	"apps/v1/Deployment":                            func() any { return &appsv1.Deployment{} },
	"v1/Service":                                    func() any { return &corev1.Service{} },
	"v1/Secret":                                     func() any { return &corev1.Secret{} },
	"autoscaling/v2/HorizontalPodAutoscaler":        func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"policy/v1/PodDisruptionBudget":                 func() any { return &policyv1.PodDisruptionBudget{} },
	"serving.kserve.io/v1alpha1/ServingRuntime":     func() any { return &ServingRuntime{} },
	"serving.kserve.io/v1beta1/InferenceService":    func() any { return &InferenceService{} },
	"kustomize.config.k8s.io/v1beta1/Kustomization": func() any { return &kusttypes.Kustomization{} },
}

// decode decodes one YAML document strictly (unknown or duplicate fields
// are errors) into the type for its apiVersion and kind.
func decode(doc []byte) (any, error) {
	var tm struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return nil, err
	}
	newObj, ok := kinds[tm.APIVersion+"/"+tm.Kind]
	if !ok {
		return nil, &unknownKindError{tm.APIVersion, tm.Kind}
	}
	// As the API server decodes: case-sensitive field names, unknown and
	// duplicate fields refused.
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return nil, err
	}
	obj := newObj()
	strict, err := sigsjson.UnmarshalStrict(j, obj, sigsjson.DisallowDuplicateFields, sigsjson.DisallowUnknownFields)
	if err != nil {
		return nil, err
	}
	if len(strict) > 0 {
		return nil, errors.Join(strict...)
	}
	return obj, nil
}

type unknownKindError struct{ apiVersion, kind string }

func (e *unknownKindError) Error() string {
	return "no API type known for apiVersion " + e.apiVersion + " kind " + e.kind
}

// documents splits a multi-document YAML stream.
func documents(data []byte) [][]byte {
	var docs [][]byte
	for _, d := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(data), -1) {
		if strings.TrimSpace(stripComments(d)) != "" {
			docs = append(docs, []byte(d))
		}
	}
	return docs
}

func stripComments(s string) string {
	return regexp.MustCompile(`(?m)^\s*#.*$`).ReplaceAllString(s, "")
}

// manifestFiles lists the YAML files under deploy/, this module excluded.
func manifestFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(deployDir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "check" {
			return filepath.SkipDir
		}
		if ext := filepath.Ext(path); ext == ".yaml" || ext == ".yml" {
			files = append(files, path)
		}
		return nil
	})
	require.NoError(t, err)
	return files
}

func TestManifestsDecodeStrictly(t *testing.T) {
	files := manifestFiles(t)
	require.GreaterOrEqual(t, len(files), 10, "the manifests under deploy/: %v", files)
	for _, path := range files {
		t.Run(path, func(t *testing.T) {
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			docs := documents(data)
			require.NotEmpty(t, docs)
			for _, doc := range docs {
				_, err := decode(doc)
				require.NoError(t, err)
			}
		})
	}
}

// TestStrictDecodingRefusesTypos shows that the check above can fail: a
// misspelt field, a duplicate field, a wrong type and an unknown kind.
func TestStrictDecodingRefusesTypos(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(deployDir, "kubernetes", "base", "deployment.yaml"))
	require.NoError(t, err)
	tests := []struct {
		name, old, new, msg string
	}{
		{"misspelt field", "terminationGracePeriodSeconds:", "terminationGracePeriod:", "unknown field"},
		{"misspelt probe field", "readinessProbe:", "readinessprobe:", "unknown field"},
		{"duplicate field", "  replicas: 3\n", "  replicas: 3\n  replicas: 4\n", "already set"},
		{"wrong type", "replicas: 3", "replicas: three", "cannot unmarshal"},
		{"unknown kind", "kind: Deployment", "kind: Deploymnet", "no API type known"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Contains(t, string(data), tt.old)
			_, err := decode(bytes.Replace(data, []byte(tt.old), []byte(tt.new), 1))
			require.ErrorContains(t, err, tt.msg)
		})
	}
	sr, err := os.ReadFile(filepath.Join(deployDir, "kserve", "servingruntime.yaml"))
	require.NoError(t, err)
	_, err = decode(bytes.Replace(sr, []byte("protocolVersions:"), []byte("protocolVersion:"), 1))
	require.ErrorContains(t, err, "unknown field", "a KServe field KServe does not have")
}

// build runs kustomize on a directory under deploy/kubernetes and decodes
// every resource strictly.
func build(t *testing.T, dir string) []any {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join(deployDir, "kubernetes", dir))
	require.NoError(t, err, "kustomize build %s", dir)
	out, err := rm.AsYaml()
	require.NoError(t, err)
	var objs []any
	for _, doc := range documents(out) {
		obj, err := decode(doc)
		require.NoError(t, err, "kustomize build %s:\n%s", dir, doc)
		objs = append(objs, obj)
	}
	return objs
}

// fleet is what a kustomization builds.
type fleet struct {
	dep *appsv1.Deployment
	svc *corev1.Service
	hpa *autoscalingv2.HorizontalPodAutoscaler
	pdb *policyv1.PodDisruptionBudget
}

func fleetOf(t *testing.T, objs []any) fleet {
	t.Helper()
	var f fleet
	for _, o := range objs {
		switch o := o.(type) {
		case *appsv1.Deployment:
			f.dep = o
		case *corev1.Service:
			f.svc = o
		case *autoscalingv2.HorizontalPodAutoscaler:
			f.hpa = o
		case *policyv1.PodDisruptionBudget:
			f.pdb = o
		default:
			t.Fatalf("unexpected resource %T", o)
		}
	}
	require.NotNil(t, f.dep, "Deployment")
	require.NotNil(t, f.svc, "Service")
	require.NotNil(t, f.hpa, "HorizontalPodAutoscaler")
	require.NotNil(t, f.pdb, "PodDisruptionBudget")
	return f
}

// checkFleet checks what holds for the base and every overlay: the objects
// refer to each other correctly.
func checkFleet(t *testing.T, f fleet) {
	t.Helper()
	pod := labels.Set(f.dep.Spec.Template.Labels)
	sel := labels.SelectorFromSet(f.dep.Spec.Selector.MatchLabels)
	assert.True(t, sel.Matches(pod), "the Deployment's selector matches its pods")
	assert.True(t, labels.SelectorFromSet(f.svc.Spec.Selector).Matches(pod), "the Service selects the pods")
	assert.True(t, labels.SelectorFromSet(f.pdb.Spec.Selector.MatchLabels).Matches(pod), "the PDB selects the pods")
	assert.Equal(t, f.dep.Name, f.hpa.Spec.ScaleTargetRef.Name, "the HPA scales the Deployment")
	assert.Equal(t, "Deployment", f.hpa.Spec.ScaleTargetRef.Kind)
	require.NotNil(t, f.hpa.Spec.MinReplicas)
	require.NotNil(t, f.pdb.Spec.MaxUnavailable)
	assert.Less(t, f.pdb.Spec.MaxUnavailable.IntValue(), int(*f.hpa.Spec.MinReplicas), "the PDB leaves replicas serving")
	assert.Equal(t, int32(0), f.dep.Spec.Strategy.RollingUpdate.MaxUnavailable.IntVal, "a rollout keeps every replica until its successor is ready")
	c := container(t, f.dep.Spec.Template.Spec.Containers, "zoo-serve")
	port := containerPort(t, c, "http")
	for _, sp := range f.svc.Spec.Ports {
		assert.Equal(t, "http", sp.TargetPort.String(), "the Service targets the named port")
	}
	assert.Equal(t, port, int32(atoi(t, f.dep.Spec.Template.Annotations["prometheus.io/port"])), "Prometheus scrapes the container's port")
	assert.Equal(t, "true", f.dep.Spec.Template.Annotations["prometheus.io/scrape"])
	sc := c.SecurityContext
	require.NotNil(t, sc)
	assert.True(t, *sc.ReadOnlyRootFilesystem, "read-only root file system")
	assert.False(t, *sc.AllowPrivilegeEscalation)
	assert.True(t, *f.dep.Spec.Template.Spec.SecurityContext.RunAsNonRoot)
	for _, name := range []string{"ZOO_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		e := envVar(t, c, name)
		require.NotNil(t, e.ValueFrom, "%s comes from a Secret", name)
		assert.NotNil(t, e.ValueFrom.SecretKeyRef, "%s comes from a Secret", name)
	}
	assert.NotNil(t, c.Resources.Requests.Cpu(), "CPU request (the HPA's utilisation is relative to it)")
	assert.False(t, c.Resources.Limits.Memory().IsZero(), "memory limit")
	cache := envVar(t, c, "ZOO_CACHE").Value
	mounted := false
	for _, m := range c.VolumeMounts {
		mounted = mounted || m.MountPath == cache
	}
	assert.True(t, mounted, "ZOO_CACHE %s is a mounted volume (the root file system is read-only)", cache)
}

func TestKustomizeBase(t *testing.T) {
	f := fleetOf(t, build(t, "base"))
	checkFleet(t, f)
	assert.Equal(t, int32(3), *f.dep.Spec.Replicas)
}

// TestKustomizeOverlay builds the production overlay with kustomize's own
// library and checks that its patches took: namespace, image tag, replicas,
// the environment merged by name, resources, the HPA's bounds.
func TestKustomizeOverlay(t *testing.T) {
	f := fleetOf(t, build(t, filepath.Join("overlays", "production")))
	checkFleet(t, f)
	for _, m := range []string{f.dep.Namespace, f.svc.Namespace, f.hpa.Namespace, f.pdb.Namespace} {
		assert.Equal(t, "fmixzoo", m)
	}
	c := container(t, f.dep.Spec.Template.Spec.Containers, "zoo-serve")
	assert.Equal(t, "registry.example.com/fmixzoo/zoo-serve:v0.1.0", c.Image)
	assert.Equal(t, int32(4), *f.dep.Spec.Replicas)
	assert.Equal(t, "http://minio.storage.svc.cluster.local:9000", envVar(t, c, "ZOO_S3_ENDPOINT").Value)
	assert.Equal(t, "6", envVar(t, c, "ZOO_MAX_MODELS").Value)
	assert.Equal(t, "s3://fmixzoo/zoo", envVar(t, c, "ZOO_STORE").Value, "base variables are kept")
	seen := map[string]int{}
	for _, e := range c.Env {
		seen[e.Name]++
	}
	for name, n := range seen {
		assert.Equal(t, 1, n, "%s set once", name)
	}
	assert.Equal(t, "2", c.Resources.Requests.Cpu().String())
	assert.Equal(t, int32(4), *f.hpa.Spec.MinReplicas)
	assert.Equal(t, int32(20), f.hpa.Spec.MaxReplicas)
	assert.Equal(t, "zoo-serve", f.dep.Spec.Template.Labels["app.kubernetes.io/name"], "base labels are kept")
}

func container(t *testing.T, cs []corev1.Container, name string) corev1.Container {
	t.Helper()
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no container %q", name)
	return corev1.Container{}
}

func containerPort(t *testing.T, c corev1.Container, name string) int32 {
	t.Helper()
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	t.Fatalf("container %s has no port %q", c.Name, name)
	return 0
}

func envVar(t *testing.T, c corev1.Container, name string) corev1.EnvVar {
	t.Helper()
	for _, e := range c.Env {
		if e.Name == name {
			return e
		}
	}
	t.Fatalf("container %s sets no %s", c.Name, name)
	return corev1.EnvVar{}
}

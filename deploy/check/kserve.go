package check

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KServe's Go module (github.com/kserve/kserve) is not served by the module
// proxy this project may use, so the two KServe kinds the manifests use are
// declared here with the field names of KServe's API reference
// (serving.kserve.io v1alpha1 ServingRuntime, v1beta1 InferenceService).
// Only the fields the manifests need are declared, so that a field KServe
// does not have — a typo — fails strict decoding; the embedded Kubernetes
// types (Container, Volume, PodSpec…) are the real ones.

// ServingRuntime is serving.kserve.io/v1alpha1 ServingRuntime.
type ServingRuntime struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              ServingRuntimeSpec `json:"spec"`
}

// ServingRuntimeSpec is the subset of KServe's ServingRuntimeSpec the
// manifests use, with ServingRuntimePodSpec's fields inlined as in KServe.
type ServingRuntimeSpec struct {
	SupportedModelFormats []SupportedModelFormat `json:"supportedModelFormats,omitempty"`
	MultiModel            *bool                  `json:"multiModel,omitempty"`
	Disabled              *bool                  `json:"disabled,omitempty"`
	ProtocolVersions      []string               `json:"protocolVersions,omitempty"`

	Containers   []corev1.Container  `json:"containers"`
	Volumes      []corev1.Volume     `json:"volumes,omitempty"`
	NodeSelector map[string]string   `json:"nodeSelector,omitempty"`
	Affinity     *corev1.Affinity    `json:"affinity,omitempty"`
	Tolerations  []corev1.Toleration `json:"tolerations,omitempty"`
	Labels       map[string]string   `json:"labels,omitempty"`
	Annotations  map[string]string   `json:"annotations,omitempty"`
}

// SupportedModelFormat is a model format a ServingRuntime serves.
type SupportedModelFormat struct {
	Name       string  `json:"name"`
	Version    *string `json:"version,omitempty"`
	AutoSelect *bool   `json:"autoSelect,omitempty"`
	Priority   *int32  `json:"priority,omitempty"`
}

// InferenceService is serving.kserve.io/v1beta1 InferenceService, predictor
// only.
type InferenceService struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              InferenceServiceSpec `json:"spec"`
}

// InferenceServiceSpec holds the predictor.
type InferenceServiceSpec struct {
	Predictor PredictorSpec `json:"predictor"`
}

// PredictorSpec is KServe's PredictorSpec with the model form of predictor:
// a model, the pod's fields inlined, and the component extension (scaling).
type PredictorSpec struct {
	Model                  *ModelSpec `json:"model,omitempty"`
	corev1.PodSpec         `json:",inline"`
	ComponentExtensionSpec `json:",inline"`
}

// ComponentExtensionSpec is the scaling part of KServe's component
// extension.
type ComponentExtensionSpec struct {
	MinReplicas          *int32  `json:"minReplicas,omitempty"`
	MaxReplicas          int32   `json:"maxReplicas,omitempty"`
	ScaleTarget          *int32  `json:"scaleTarget,omitempty"`
	ScaleMetric          *string `json:"scaleMetric,omitempty"`
	ContainerConcurrency *int64  `json:"containerConcurrency,omitempty"`
	TimeoutSeconds       *int64  `json:"timeout,omitempty"`
	CanaryTrafficPercent *int64  `json:"canaryTrafficPercent,omitempty"`
}

// ModelSpec names the model's format and runtime and where it is stored;
// the container fields override the runtime's container.
type ModelSpec struct {
	ModelFormat      ModelFormat `json:"modelFormat"`
	Runtime          *string     `json:"runtime,omitempty"`
	StorageURI       *string     `json:"storageUri,omitempty"`
	RuntimeVersion   *string     `json:"runtimeVersion,omitempty"`
	ProtocolVersion  *string     `json:"protocolVersion,omitempty"`
	corev1.Container `json:",inline"`
}

// ModelFormat is a model's format.
type ModelFormat struct {
	Name    string  `json:"name"`
	Version *string `json:"version,omitempty"`
}

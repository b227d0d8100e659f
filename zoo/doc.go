// Package zoo defines the FMix architectures once, as a layer graph whose
// parameters carry the PyTorch state-dict names of the published
// checkpoints, and derives three things from that one definition:
//
//   - a Gorgonia training graph (TrainStep) and evaluation (Forward);
//   - an ONNX export (ExportONNX), the format the hub serves;
//   - an importer for the authors' PyTorch checkpoints (ImportPT), checked
//     key by key like load_state_dict(strict=True).
//
// The training graph's ops also differentiate in evaluation mode: Gradients
// gives the gradient of a class score, a cross-entropy or any weighting of
// the logits with respect to the input and to a named layer (LayerNames:
// PyTorch module names such as layer4), and GradCAM builds Grad-CAM maps
// from them. ReadONNX rebuilds a Net from its exported ONNX file, so a
// served model is explained from the very file it runs.
//
// Architectures: lenet (ours, 28×28), preact_resnet18, pyramidnet
// (bottleneck, ShakeDrop), wrn, densenet_bc and torchvision's resnet18-152.
package zoo

// Package testutil holds what the module's tests share, so that each is
// written once: the PyTorch fixtures under testdata/torch (their manifest,
// raw float32 files, the tolerance logits are held to, and the ImageNet
// folder tree with PyTorch's accuracy on it), a log sink safe for
// concurrent writers, child processes killed with the test, allocation
// counting, and the rule for tools and data sets the test environment
// installs.
//
// It is for tests only: no package's non-test code imports it except the
// test-support packages (internal/s3test). It imports nothing of the
// module, so every package's own tests can use it.
package testutil

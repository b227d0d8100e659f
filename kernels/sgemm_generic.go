//go:build !amd64 || purego

package kernels

// availableKernels is empty without assembly: Sgemm uses the pure-Go path.
func availableKernels() []*microKernel { return nil }

func fmaPeakAVX512(iters int) { panic("kernels: no AVX-512 peak loop in this build") }

func hasFMAPeak() bool { return false }

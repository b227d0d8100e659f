package hub_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/fmixzoo/zoo/hub"
)

// A client of its own: the zero value serves the embedded manifest and weights;
// the cache goes where CacheDir says. (The README's client snippet sets the same
// fields against a remote manifest and an S3 store.)
func ExampleClient() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "zoo-cache-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	c := &hub.Client{CacheDir: dir}
	names, err := c.List(ctx, "lenet_fashion_*")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(names)
	e, err := c.Info(ctx, "lenet_fashion_fmix")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(e.Arch, e.Dataset, e.MSDA, e.Input.Shape)
	m, err := c.Load(ctx, "lenet_fashion_fmix")
	if err != nil {
		log.Fatal(err)
	}
	x := make([]float32, 28*28) // one 1×28×28 input (see Preprocess for images)
	out, err := m.Run(ctx, hub.Tensor{Shape: []int{1, 1, 28, 28}, Data: x})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(out[0].Shape)
	// Output:
	// [lenet_fashion_baseline lenet_fashion_cutmix lenet_fashion_fmix lenet_fashion_fmixplusmixup lenet_fashion_mixup]
	// lenet fashion_mnist fmix [1 28 28]
	// [1 10]
}

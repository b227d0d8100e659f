package torchpt_test

import (
	"fmt"
	"log"
	"os"

	"github.com/fmixzoo/zoo/internal/torchpt"
)

func ExampleRead() {
	f, err := os.Open("../../testdata/torch/lenet.legacy.pt")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		log.Fatal(err)
	}
	sd, err := torchpt.Read(f, st.Size())
	if err != nil {
		log.Fatal(err)
	}
	w := sd["conv1.weight"]
	fmt.Println(len(sd), w.Shape, w.DType, len(w.Data))
	// Output: 8 [8 1 5 5] float32 200
}

package zoo

import (
	"testing"

	"github.com/fmixzoo/zoo/internal/torchpt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestImportPTBoundedByArchitecture: ImportPT reads no more tensor data
// than the architecture needs. The 750 KB resnet18.pt (177k parameters),
// offered as a LeNet (20k), is refused by the reader's element bound,
// before its later storages are read, not after the whole state dict has
// been materialised and compared.
func TestImportPTBoundedByArchitecture(t *testing.T) {
	f, size := openFixture(t, "resnet18.pt")
	_, err := ImportPT("lenet", Args{NumClasses: 10, NC: 1, Width: 8}, f, size)
	require.Error(t, err)
	assert.ErrorIs(t, err, torchpt.ErrMalformed)
	assert.Contains(t, err.Error(), "elements exceed")

	lenet, size := openFixture(t, "lenet.pt")
	_, err = ImportPT("lenet", Args{NumClasses: 10, NC: 1, Width: 8}, lenet, size)
	require.NoError(t, err, "the bound admits the architecture's own checkpoint")
}

package onnxpb

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWithoutInitializers(t *testing.T) {
	m := reluModel()
	data := m.Marshal()
	stripped, err := WithoutInitializers(data)
	require.NoError(t, err)

	inits, err := ReadInitializers(stripped)
	require.NoError(t, err)
	assert.Empty(t, inits, "the copy keeps no initializer")
	inits, err = ReadInitializers(data)
	require.NoError(t, err)
	require.Len(t, inits, 1, "the original is untouched")
	assert.Equal(t, []float32{-1, 0, 1}, inits[0].Floats)

	// Everything else is as before: the same model without its initializer.
	m.Graph.Initializers = nil
	assert.Equal(t, m.Marshal(), stripped)

	_, err = WithoutInitializers(append(data, 0xff))
	assert.ErrorIs(t, err, ErrMalformed)
}

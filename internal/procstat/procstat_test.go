package procstat

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPeakRSSSeesAnAllocation(t *testing.T) {
	if runtime.GOOS != "linux" {
		_, err := PeakRSS()
		assert.Error(t, err)
		return
	}
	before, err := PeakRSS()
	require.NoError(t, err)
	b := make([]byte, before+64<<20) // more than the peak so far, touched
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	after, err := PeakRSS()
	require.NoError(t, err)
	runtime.KeepAlive(b)
	assert.Greater(t, after, before+int64(len(b))/2)
}

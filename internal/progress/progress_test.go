package progress

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestLogFileGetsALineEvery30Seconds(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf)
	assert.False(t, l.Terminal, "a buffer is no terminal")
	t0 := time.Unix(1000, 0)
	assert.False(t, l.Due(t0), "the first report only starts the clock")
	assert.False(t, l.Due(t0.Add(29*time.Second)))
	assert.True(t, l.Due(t0.Add(30*time.Second)))
	assert.False(t, l.Due(t0.Add(59*time.Second)))
	l.Restart()
	assert.False(t, l.Due(t0.Add(61*time.Second)), "a restart starts the clock again")
	l.Draw("a")
	l.Draw("b")
	l.Clear()
	l.Keep()
	assert.Equal(t, "a\nb\n", buf.String())
}

func TestTerminalRedrawsInPlace(t *testing.T) {
	var buf bytes.Buffer
	l := Line{W: &buf, Terminal: true}
	t0 := time.Unix(1000, 0)
	assert.True(t, l.Due(t0), "the first report draws at once")
	assert.False(t, l.Due(t0.Add(99*time.Millisecond)))
	assert.True(t, l.Due(t0.Add(100*time.Millisecond)))
	l.Clear() // nothing drawn yet: nothing to erase
	l.Draw("a")
	l.Draw("b")
	l.Clear()
	l.Draw("c")
	l.Keep()
	assert.Equal(t, "\r\033[Ka\r\033[Kb\r\033[K\r\033[Kc\n", buf.String())
}

func TestBar(t *testing.T) {
	assert.Equal(t, "["+spaces(24)+"]", Bar(0, 10))
	assert.Equal(t, "[======"+spaces(18)+"]", Bar(50, 200))
	assert.Equal(t, "[========================]", Bar(10, 10))
	assert.Equal(t, "[========================]", Bar(11, 10), "overshoot stays in the bar")
	assert.Equal(t, "["+spaces(24)+"]", Bar(0, 0))
}

func spaces(n int) string { return string(bytes.Repeat([]byte{' '}, n)) }

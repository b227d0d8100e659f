package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTrainAndVerifyFlagErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"train", "--schedule", "150,100"}, "must increase"},
		{[]string{"train", "--dataset", "svhn"}, "unknown dataset"},
		{[]string{"train", "extra"}, "unexpected arguments"},
		{[]string{"verify"}, "no model names"},
		{[]string{"verify", "--csv", "", "no_such_model_*"}, "matches no model"},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		code := run(tt.args, &out, &errb)
		assert.Equal(t, 1, code, "%v: %s", tt.args, errb.String())
		assert.Contains(t, errb.String(), tt.want, tt.args)
	}
}

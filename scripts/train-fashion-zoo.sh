#!/usr/bin/env bash
# Trains and publishes the shipped zoo: PreAct-ResNet18 (one input channel,
# 28×28, width 16) on Fashion-MNIST with the five MSDA modes, the FMix paper's
# recipe (SGD lr 0.1, momentum 0.9, weight decay 1e-4, batch 128, random crop
# with 4-pixel padding and flips, α = 1, FMix decay power 3) on a cosine
# schedule of EPOCHS epochs, the same seed for all five.
#
# Each run checkpoints every epoch under RUNS (outside the repository); run the
# script again after an interruption and it resumes where it stopped, skipping
# the models already in MANIFEST. Run it from the repository root.
#
# MANIFEST and STORE (default: the repository's weights.json and weights/)
# receive the published entries and ONNX files; pointing them outside the
# repository keeps the working tree clean, so every run's provenance names a
# clean commit. When all five are done, ship them into the repository with
#   go run scripts/ship-entries.go -from "$MANIFEST" -from-store "$STORE" 'preact_resnet18_fashion_*'
set -euo pipefail

RUNS=${RUNS:-$HOME/fmixzoo-runs}
EPOCHS=${EPOCHS:-30}
WIDTH=${WIDTH:-16}
SEED=${SEED:-1}
MODES=${MODES:-"none fmix mixup cutmix fmixplusmixup"}
ZOO_TRAIN=${ZOO_TRAIN:-$RUNS/zoo-train}
MANIFEST=${MANIFEST:-weights.json}
STORE=${STORE:-weights}

mkdir -p "$RUNS"
go build -o "$ZOO_TRAIN" ./cmd/zoo-train
for mode in $MODES; do
	msda=$mode
	[ "$mode" = none ] && msda=baseline
	name=preact_resnet18_fashion_$msda
	if grep -q "\"name\": \"$name\"" "$MANIFEST"; then
		echo "== $name already published"
		continue
	fi
	resume=()
	[ -f "$RUNS/$name/checkpoint.gob" ] && resume=(--resume)
	echo "== $name ${resume[*]}"
	"$ZOO_TRAIN" train --arch preact_resnet18 --width "$WIDTH" --dataset fashion_mnist \
		--msda "$mode" --epochs "$EPOCHS" --schedule cosine --seed "$SEED" \
		--name "$name" --out "$RUNS/$name" --manifest "$MANIFEST" --store "$STORE" \
		"${resume[@]}"
done

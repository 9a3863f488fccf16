"""The model's making: synthetic defects (:mod:`.synth`), training and export (:mod:`.training`),
accuracy evaluation (:mod:`.evaluation`). Nothing in the product imports this package."""

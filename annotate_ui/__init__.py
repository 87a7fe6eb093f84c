"""What a human verifier touches: the Label Studio labeling config, its client and the webhook receiver.

Arrives with the review issue; the package exists now so the dependency direction (flows -> annotate_ui -> db)
is fixed from the start.
"""

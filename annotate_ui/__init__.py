"""What a human verifier touches: the Label Studio labeling config (`labeling_config`), the client that
creates projects, imports tasks with predictions and reads annotations (`client`), the validation of Label
Studio's annotations and webhook bodies (`events`), and the FastAPI service that receives webhooks and serves
media (`service`). Depends on nothing of ours but its settings; the flows wire it to the database.
"""

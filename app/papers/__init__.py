"""The train and its papers: the consist of a departure's plan (``app.consist`` on stored plans) and the
documents a rail shipment needs: the booking confirmation, the CIM/SMGS consignment note per container
(JSON for systems, PDF for people) and the printed train list. One PDF library for all of them, fpdf2,
with the stuffing plan's fonts (``app.stuffing.paper``)."""

// SafeTensors placeholder
